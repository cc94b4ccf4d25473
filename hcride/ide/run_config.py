"""A project's run configuration (main script or module, arguments, working folder,
environment, interpreter, reload mode), kept in the project's settings, and the dialog
that edits it."""

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
from hcride.programs import find_program_module

MODES = ("detect", "auto", "manual")
KINDS = ("script", "module")
"""What Run starts: a script (``python main.py``) or a module (``python -m app.server``)."""


@dataclass(frozen=True)
class RunConfig:
    """What Run starts. Empty ``python``: the project's venv if it has one, else ours."""

    script: str = ""
    """The main script; for a module, its file (as ``check`` found it): the file that
    runs as ``__main__``, never reloaded."""
    args: str = ""
    """As typed on a shell command line (split with ``shlex``)."""
    cwd: str = ""
    """Empty: the project folder."""
    env: dict[str, str] = field(default_factory=dict)
    python: str = ""
    mode: str = "detect"
    kind: str = "script"
    """``script`` or ``module`` (``KINDS``); a configuration saved without it: a script."""
    module: str = ""
    """With ``kind == "module"``: the name given to ``python -m`` (``app.server``)."""

    @property
    def runs_module(self) -> bool:
        return self.kind == "module"

    def target(self) -> str:
        """What runs, in words: ``main.py`` or ``-m app.server``."""
        if self.runs_module:
            return f"-m {self.module}" if self.module else "(no module)"
        return Path(self.script).name if self.script else "(no main script)"

    def argv(self) -> tuple[str, ...]:
        return tuple(shlex.split(self.args))

    def interpreter(self, project: Path) -> Path:
        """The interpreter Run uses (the venv found automatically when not chosen)."""
        return find_interpreter(project, self.python or None)

    def working_dir(self, project: Path) -> Path:
        return Path(self.cwd) if self.cwd else project

    def describe(self, project: Path) -> str:
        """``main.py arg · .venv/bin/python · detect`` for the toolbar."""
        script = self.target()
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
    return check(config, project)[1]


def check(config: RunConfig, project: Path) -> tuple[RunConfig, list[str]]:
    """``config`` with, for a module, ``script`` its file (looked for as ``python -m``
    finds it in the program: from the working folder, by the program's interpreter,
    with its environment), and what would keep it from running, in words ([] when
    it can run)."""
    out: list[str] = []
    if config.kind not in KINDS:
        out.append(f"Unknown kind of run {config.kind!r}.")
    elif config.runs_module:
        if not config.module:
            out.append("Choose a module: the name python -m takes (app.server).")
    elif not config.script:
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
    if config.runs_module and config.module and not out:
        config, wrong = _find_module(config, project)
        out += wrong
    return config, out


def _find_module(config: RunConfig, project: Path) -> tuple[RunConfig, list[str]]:
    cwd = config.working_dir(project)
    try:
        found = find_program_module(config.module, project, config.python or None, cwd,
                                    config.env)
    except LookupError as exc:
        text = str(exc)
        if text.startswith("no module named"):
            text = "N" + text[1:]
            if (project / "src").is_dir() and cwd == project and "PYTHONPATH" not in config.env:
                text += (" (a src layout? Set the working folder to src, or PYTHONPATH=src "
                         "in the environment)")
        return config, [text + "."]
    except OSError as exc:
        return config, [f"Interpreter: {exc}."]
    return config.with_(script=str(found)), []


def _short(path: str, project: Path) -> str:
    """``path`` from the project folder when it is in it (the start of a long absolute
    path would be cut in the field)."""
    if path and Path(path).is_relative_to(project):
        return str(Path(path).relative_to(project))
    return path


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
        self.kind = QComboBox(self)
        self.kind.setObjectName("runKind")
        self.kind.addItem("Script", "script")
        self.kind.addItem("Module (python -m)", "module")
        self.kind.setCurrentIndex(max(0, self.kind.findData(config.kind)))
        self.script = QLineEdit(_short(config.script, project), self)
        self.script.setObjectName("runScript")
        self.script.setToolTip("A file of the project is shown from the project folder")
        self.module = QLineEdit(config.module, self)
        self.module.setObjectName("runModule")
        self.module.setPlaceholderText("app.server, as in python -m app.server")
        self.module.setToolTip(
            "Found as python -m finds it: from the working folder, then the "
            "interpreter's packages and PYTHONPATH.\nA package runs its __main__.py. "
            "Its file is the main script (a save of it needs a restart)."
        )
        self.args = QLineEdit(config.args, self)
        self.args.setObjectName("runArgs")
        self.args.setPlaceholderText("arguments, as in a shell: --size 3 'two words'")
        self.cwd = QLineEdit(config.cwd, self)
        self.cwd.setObjectName("runCwd")
        self.cwd.setPlaceholderText("the project folder")
        self.cwd.setToolTip(f"Empty: the project folder, {project}")
        self.env = QPlainTextEdit(format_env(config.env), self)
        self.env.setObjectName("runEnv")
        self.env.setPlaceholderText("NAME=value, one a line")
        self.env.setFixedHeight(90)
        self.python = QLineEdit(config.python, self)
        self.python.setObjectName("runPython")
        found = find_interpreter(project)
        shown = found.relative_to(project) if found.is_relative_to(project) else found
        self.python.setPlaceholderText(  # short: a long path would be cut
            "the IDE's python (no .venv or venv in the project)"
            if found == Path(sys.executable) else f"found automatically: {shown}"
        )  # fmt: skip
        self.python.setToolTip(f"Empty: {found}")
        self.mode = QComboBox(self)
        self.mode.setObjectName("runMode")
        self.mode.addItems(MODES)
        self.mode.setCurrentText(config.mode)
        self.errors = QLabel("", self)
        self.errors.setObjectName("runConfigErrors")
        self.errors.setStyleSheet("color: #c0392b")
        self.errors.setWordWrap(True)
        self.errors.setVisible(False)  # no empty space above the buttons
        self.pick_file: Callable[[str, str], str] = lambda title, start: QFileDialog.getOpenFileName(
            self, title, start
        )[0]
        self.pick_folder: Callable[[str, str], str] = (
            lambda title, start: QFileDialog.getExistingDirectory(self, title, start)
        )
        self._last: tuple[RunConfig, RunConfig, list[str]] | None = None
        """The last ``config()``: the fields, what they run, what is wrong."""
        self.form = form = QFormLayout()
        form.addRow("Run", self.kind)
        self._script_row = self._with_browse(self.script, "file")
        form.addRow("Main script", self._script_row)
        form.addRow("Module", self.module)
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
        layout.addStretch(1)  # a taller dialog grows here, not between the rows
        layout.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._show_kind)
        self._show_kind()

    def _show_kind(self) -> None:
        """Only the row of the chosen kind: the main script's, or the module's."""
        module = self.kind.currentData() == "module"
        self.form.setRowVisible(self._script_row, not module)
        self.form.setRowVisible(self.module, module)

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
            kind=str(self.kind.currentData()),
            module=self.module.text().strip(),
        )
        if self._last is None or self._last[0] != config:  # a module is looked for once
            checked, wrong = check(config, self.project)
            self._last = (config, checked, wrong)
        return self._last[1], errors + self._last[2]

    def accept(self) -> None:
        self._last = None  # looked for again: the module may have been made meanwhile
        _config, errors = self.config()
        if errors:
            self.errors.setText("\n".join(errors))
            self.errors.setVisible(True)
            return
        super().accept()
