"""Interrupt controllers and the timers that sit beside them."""
