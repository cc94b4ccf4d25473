"""The bouncing sample's logic (the seed's SDL example, on pygame): edit me while it runs.

Try it: change the rectangle's colour below from ``(255, 128, 128)`` to
``(255, 255, 128)``, save, give the window the focus and press F9. The rectangle
turns yellow and goes on from where it was: the globals ``pos_x``, ``pos_y``, ``d_x``
and ``d_y`` keep their values, because a reload does not run their assignments again.
"""

import pygame

# *** import the hotcodereloading API ***
from hcride import hotcodereloading as hcr

run_game: bool = True
window: pygame.Surface | None = None


def init() -> None:
    global window
    pygame.display.init()  # video only, as the seed's SDL_Init(SDL_INIT_VIDEO): no audio device needed
    window = pygame.display.set_mode((640, 480))
    pygame.display.set_caption("testing")


def destroy() -> None:
    pygame.quit()


pos_x: int = 1
pos_y: int = 0
d_x: int = 1
d_y: int = 1


def update() -> None:
    global run_game, pos_x, pos_y, d_x, d_y
    for evt in pygame.event.get():
        if evt.type == pygame.QUIT:
            run_game = False
            break
        if evt.type == pygame.KEYDOWN:
            if evt.key == pygame.K_ESCAPE:
                run_game = False
            elif evt.key == pygame.K_F9:
                # *** reload this logic.py module on the F9 keypress ***
                hcr.perform_code_reload()

    # draw a bouncing rectangle:
    pos_x += d_x
    pos_y += d_y

    if pos_x >= 640:
        d_x = -2
    if pos_x <= 0:
        d_x = +2
    if pos_y >= 480:
        d_y = -2
    if pos_y <= 0:
        d_y = +2

    assert window is not None, "call init() first"
    window.fill((0, 0, 255))
    rect = pygame.Rect(pos_x - 25, pos_y - 25, 50, 50)
    window.fill((255, 128, 128), rect)
    pygame.time.delay(16)
    pygame.display.flip()
