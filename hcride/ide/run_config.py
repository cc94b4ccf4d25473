"""A project's run configuration (main script, arguments, working folder, environment,
interpreter, reload mode), kept in the project's settings, and the dialog that edits it."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hcride.controller.interpreter import find_interpreter

MODES = ("detect", "auto", "manual")


@dataclass(frozen=True)
class RunConfig:
    """What Run starts. Empty ``python``: the project's venv if it has one, else ours."""

    script: str = ""
    args: str = ""
    """As typed on a shell command line (split with ``shlex``)."""
    cwd: str = ""
    """Empty: the project folder."""
    env: dict[str, str] = field(default_factory=dict)
    python: str = ""
    mode: str = "detect"

    def argv(self) -> tuple[str, ...]:
        return tuple(shlex.split(self.args))

    def interpreter(self, project: Path) -> Path:
        """The interpreter Run uses (the venv found automatically when not chosen)."""
        return find_interpreter(project, self.python or None)

    def working_dir(self, project: Path) -> Path:
        return Path(self.cwd) if self.cwd else project

    def describe(self, project: Path) -> str:
        """``main.py arg · .venv/bin/python · detect`` for the toolbar."""
        script = Path(self.script).name if self.script else "(no main script)"
        if self.args:
            script += " " + self.args
        python = self.interpreter(project)
        if not self.python and python == Path(sys.executable):
            shown = "IDE's python"  # no venv in the project: the interpreter hcride runs on
        else:
            try:
                shown = str(python.relative_to(project))
            except ValueError:
                shown = str(python)
        return f"{script} · {shown} · {self.mode}"

    def with_(self, **changes: object) -> RunConfig:
        return replace(self, **changes)  # type: ignore[arg-type]


def problems(config: RunConfig, project: Path) -> list[str]:
    """What would keep ``config`` from running, in words ([] when it can run)."""
    out: list[str] = []
    if not config.script:
        out.append("Choose a main script.")
    elif not Path(config.script).is_file():
        out.append(f"Main script {config.script} does not exist.")
    try:
        config.argv()
    except ValueError as exc:
        out.append(f"Arguments: {exc}.")
    if config.cwd and not Path(config.cwd).is_dir():
        out.append(f"Working folder {config.cwd} does not exist.")
    if config.python:
        path = Path(os.path.expanduser(config.python))
        if not path.is_file() or not os.access(path, os.X_OK):
            out.append(f"Interpreter {config.python} is not an executable file.")
    if config.mode not in MODES:
        out.append(f"Unknown reload mode {config.mode!r}.")
    return out


def parse_env(text: str) -> tuple[dict[str, str], list[str]]:
    """``KEY=VALUE`` lines (blank lines and ``#`` comments skipped) -> (env, errors)."""
    env: dict[str, str] = {}
    errors: list[str] = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key or not key.replace("_", "a").isalnum() or key[0].isdigit():
            errors.append(f"Environment line {n}: {line!r} is not NAME=value.")
            continue
        env[key] = value
    return env, errors


def format_env(env: dict[str, str]) -> str:
    return "\n".join(f"{k}={v}" for k, v in env.items())


class RunConfigDialog(QDialog):
    """Run > Run Configuration…: every field of a ``RunConfig``; OK is refused (with
    the reason under the fields) while the configuration could not run."""

    def __init__(self, config: RunConfig, project: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run Configuration")
        self.setObjectName("runConfigDialog")
        self.setMinimumWidth(560)
        self.project = project
        self.script = QLineEdit(config.script, self)
        self.script.setObjectName("runScript")
        self.args = QLineEdit(config.args, self)
        self.args.setObjectName("runArgs")
        self.args.setPlaceholderText("arguments, as in a shell: --size 3 'two words'")
        self.cwd = QLineEdit(config.cwd, self)
        self.cwd.setObjectName("runCwd")
        self.cwd.setPlaceholderText(f"the project folder ({project})")
        self.env = QPlainTextEdit(format_env(config.env), self)
        self.env.setObjectName("runEnv")
        self.env.setPlaceholderText("NAME=value, one a line")
        self.env.setFixedHeight(90)
        self.python = QLineEdit(config.python, self)
        self.python.setObjectName("runPython")
        found = find_interpreter(project)
        self.python.setPlaceholderText(
            f"the IDE's python: {found} (no .venv or venv in the project)"
            if found == Path(sys.executable) else f"found automatically: {found}"
        )  # fmt: skip
        self.mode = QComboBox(self)
        self.mode.setObjectName("runMode")
        self.mode.addItems(MODES)
        self.mode.setCurrentText(config.mode)
        self.errors = QLabel("", self)
        self.errors.setObjectName("runConfigErrors")
        self.errors.setStyleSheet("color: #c0392b")
        self.errors.setWordWrap(True)
        self.pick_file: Callable[[str, str], str] = lambda title, start: QFileDialog.getOpenFileName(
            self, title, start
        )[0]
        self.pick_folder: Callable[[str, str], str] = (
            lambda title, start: QFileDialog.getExistingDirectory(self, title, start)
        )
        form = QFormLayout()
        form.addRow("Main script", self._with_browse(self.script, "file"))
        form.addRow("Arguments", self.args)
        form.addRow("Working folder", self._with_browse(self.cwd, "folder"))
        form.addRow("Environment", self.env)
        form.addRow("Interpreter", self._with_browse(self.python, "file"))
        form.addRow("Reload mode", self.mode)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors)
        layout.addWidget(buttons)

    def _with_browse(self, line: QLineEdit, kind: str) -> QWidget:
        box = QWidget(self)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(line, 1)
        button = QPushButton("Browse…", box)

        def browse() -> None:
            start = line.text() or str(self.project)
            chosen = (
                self.pick_file("Choose a file", start)
                if kind == "file"
                else self.pick_folder("Choose a folder", start)
            )
            if chosen:
                line.setText(chosen)

        button.clicked.connect(browse)
        row.addWidget(button)
        return box

    def config(self) -> tuple[RunConfig, list[str]]:
        """The configuration shown, and what is wrong with it."""
        env, errors = parse_env(self.env.toPlainText())
        script = self.script.text().strip()
        if script and not Path(script).is_absolute():
            script = str(self.project / script)
        config = RunConfig(
            script=script,
            args=self.args.text().strip(),
            cwd=self.cwd.text().strip(),
            env=env,
            python=self.python.text().strip(),
            mode=self.mode.currentText(),
        )
        return config, errors + problems(config, self.project)

    def accept(self) -> None:
        _config, errors = self.config()
        if errors:
            self.errors.setText("\n".join(errors))
            return
        super().accept()
