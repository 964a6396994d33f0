"""``python -m citelens``: the ``citelens`` command, for when its script is not on PATH."""

from citelens.cli import run

if __name__ == "__main__":  # importing this module (pydoc, a module walker) must not run the command
    run()
