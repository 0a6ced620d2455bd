"""The card gallery: every card of the product rendered by the official Adaptive Cards renderer
(npm `adaptivecards` with the Microsoft Teams light host config) in headless Chromium, at the
widths of Teams mobile and of a chat. `python -m cards.gallery --out DIR`."""
