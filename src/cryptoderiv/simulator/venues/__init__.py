"""Wire protocols of the simulated venues: REST handlers and WebSocket sessions per exchange."""
