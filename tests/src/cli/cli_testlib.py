"""Shared pieces of the CLI tests: running the `leadroute` binary under test,
a test case with its own temporary folder, and the common entry point."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BINARY = None  # set by main() from --leadroute
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
EXAMPLES = os.path.join(ROOT, "examples")


def leadroute(*args, stdin=None, cwd=None, timeout=120):
    """Runs the binary; returns the CompletedProcess (text mode)."""
    return subprocess.run([BINARY, *args], capture_output=True, text=True,
                          timeout=timeout, input=stdin, cwd=cwd)


def serve(*args, cwd=None):
    """Starts `leadroute serve --listen 127.0.0.1:0 ARGS...`; returns the
    process and the address it listens on, once it says so on stderr."""
    proc = subprocess.Popen([BINARY, "serve", "--listen", "127.0.0.1:0", *args],
                            cwd=cwd, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    while line and "msg=listening" not in line:
        line = proc.stderr.readline()
    if not line:
        proc.wait(timeout=30)
        raise AssertionError("leadroute serve exited before listening")
    return proc, line.split("addr=")[1].strip()


def stop(proc):
    """Stops a server `serve` started (SIGTERM: it flushes on the way out)
    and waits for it."""
    proc.terminate()
    proc.stderr.read()
    proc.stderr.close()
    proc.wait(timeout=30)


class TempDirCase(unittest.TestCase):
    """A test case with a fresh temporary folder, self.tmp."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def read(self, path):
        with open(path) as f:
            return f.read()


def main():
    global BINARY
    parser = argparse.ArgumentParser()
    parser.add_argument("--leadroute", required=True)
    args, rest = parser.parse_known_args()
    BINARY = args.leadroute
    unittest.main(module="__main__", argv=[sys.argv[0]] + rest, verbosity=2)
