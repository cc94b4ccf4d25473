"""Qt item models over the controller's state; the views only display them."""
