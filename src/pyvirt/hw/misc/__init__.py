"""Small board-support devices."""
