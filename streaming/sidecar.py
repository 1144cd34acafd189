"""Entry point of the streaming sidecar (same as ``cryptoderiv stream run``; the logic is cryptoderiv.streaming).

Usage: python streaming/sidecar.py --config streaming/subscriptions.yaml [--duration S] [--port P]
"""

from cryptoderiv.cli.stream import app

if __name__ == "__main__":
    app(["run", *__import__("sys").argv[1:]])
