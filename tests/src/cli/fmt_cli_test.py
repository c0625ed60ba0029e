#!/usr/bin/env python3
"""`leadroute fmt` as a user and CI run it: stdout, --check, -w, and files
with syntax errors left untouched."""
import os

from cli_testlib import TempDirCase, leadroute, main

UGLY = 'ruleset "f"   version "1"\nqueue q\nassign {   otherwise    queue q }\n'
PRETTY = 'ruleset "f" version "1"\nqueue q\nassign {\n  otherwise queue q\n}\n'


def fmt(*args):
    return leadroute("fmt", *args)


class FmtCliTest(TempDirCase):
    def test_prints_the_canonical_layout(self):
        r = fmt(self.write("a.route", UGLY))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, PRETTY)

    def test_check_lists_unformatted_files_and_exits_1(self):
        ugly = self.write("ugly.route", UGLY)
        self.write("pretty.route", PRETTY)
        r = fmt("--check", self.tmp)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, ugly + "\n")
        self.assertEqual(self.read(ugly), UGLY, "--check must not write")

    def test_check_passes_on_formatted_files(self):
        self.write("pretty.route", PRETTY)
        r = fmt("--check", self.tmp)
        self.assertEqual((r.returncode, r.stdout), (0, ""))

    def test_write_rewrites_in_place(self):
        path = self.write("a.route", UGLY)
        r = fmt("-w", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertEqual(self.read(path), PRETTY)
        self.assertEqual(os.listdir(self.tmp), ["a.route"])

    def test_syntax_errors_are_reported_and_the_file_is_untouched(self):
        broken = 'ruleset "b" version "1"\nassign { rule r when a = 1 then queue q }\n'
        path = self.write("b.route", broken)
        r = fmt("-w", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("b.route:2:24: error: `=` is not a comparison", r.stderr)
        self.assertEqual(self.read(path), broken)

    def test_check_and_write_together_is_a_usage_error(self):
        self.assertEqual(fmt("--check", "-w", self.tmp).returncode, 2)

    def test_missing_path_is_a_usage_error(self):
        self.assertEqual(fmt("/nonexistent.route").returncode, 2)


if __name__ == "__main__":
    main()
