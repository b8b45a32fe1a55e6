"""Character devices (serial ports)."""
