"""``python -m citelens.cli``: the ``citelens`` command, for when its script is not on PATH. (Here, inside the
command-line package, not as ``citelens/__main__.py``: only the cli and web packages import the cli.)"""

from citelens.cli import run

if __name__ == "__main__":  # importing this module (pydoc, a module walker) must not run the command
    run()
