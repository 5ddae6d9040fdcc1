"""The manual pages (man/) name their programs correctly and describe
only what exists (issue 7.6): each page formats without a warning
(groff -wall), its name and section match its file and an installed
program or table helper, the options of its synopsis and its option
list are exactly those the program's own usage line names, and every
configuration example parses (`smtpd -n`, its paths moved into a
temporary directory with the files they name)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from smtpdtest import BUILD, ROOT

MAN = os.path.join(ROOT, "man")
# pages of programs, and how to make each print its usage line
PROGRAMS = {
    "smtpd": [os.path.join(BUILD, "smtpd"), "-h"],
    "smtpctl": [os.path.join(BUILD, "smtpctl"), "-h"],
    "makemap": [os.path.join(BUILD, "makemap")],
    "sendmail": [os.path.join(BUILD, "sendmail"), "-?"],
    "queue-fs": [os.path.join(BUILD, "libexec", "queue-fs"), "-?"],
    "queue-ram": [os.path.join(BUILD, "libexec", "queue-ram"), "-?"],
    "scheduler-ram": [os.path.join(BUILD, "libexec", "scheduler-ram"),
                      "-?"],
    "mail.maildir": [os.path.join(BUILD, "libexec", "mail.maildir"), "-?"],
    "mail.mboxfile": [os.path.join(BUILD, "libexec", "mail.mboxfile"),
                      "-?"],
    "mail.lmtp": [os.path.join(BUILD, "libexec", "mail.lmtp"), "-?"],
}
# pages of section 5 that describe a file, not a table helper
FILE_PAGES = ("smtpd.conf", "aliases", "forward")


def pages():
    return sorted(f for f in os.listdir(MAN) if re.search(r"\.[58]$", f))


def read(page):
    with open(os.path.join(MAN, page)) as f:
        return f.read()


def section(text, name):
    """The lines of section NAME (.Sh NAME up to the next .Sh)."""
    m = re.search(r"^\.Sh %s\n(.*?)(?=^\.Sh |\Z)" % re.escape(name), text,
                  re.M | re.S)
    return m.group(1) if m else ""


def man_flags(lines):
    """Option letters named by `Fl` in mdoc LINES: `Fl dFhnv` names five
    flags, `Fl f Ar file` one that takes an argument."""
    out = set()
    for m in re.finditer(r"\bFl (\S+)(\s+Ar\b)?", lines):
        word = m.group(1)
        if m.group(2) or len(word) == 1:
            out.add(word[0])
        else:
            out.update(word)
    return out


def usage_flags(text):
    """Option letters of a usage line: [-dFhnv] [-f file] ..."""
    m = re.search(r"usage: \S+ (.*?)(?:\n\s*-|\n\S|\Z)", text, re.S)
    if m is None:
        raise AssertionError("no usage line in %r" % text)
    out = set()
    for g in re.finditer(r"\[-(\w+)( [^\]]*)?\]", m.group(1)):
        if g.group(2) and "|" in g.group(2):
            # alternatives: [-r | -u]
            out.update(re.findall(r"-(\w)", g.group(0)))
        else:
            out.update(g.group(1)[0] if g.group(2) else g.group(1))
    # a required option outside brackets: -d dest; a second form of
    # the command on the next line: mail.maildir -A
    bare = re.sub(r"\[[^\]]*\]", "", m.group(1))
    out.update(re.findall(r"(?:^|\s)-(\w) \w", bare))
    out.update(re.findall(r"(?m)^\s+\S+ -(\w)$", bare))
    return out


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, **kw)


class TestManPages(unittest.TestCase):

    def test_groff_lint(self):
        for page in pages():
            with self.subTest(page=page):
                r = run(["groff", "-z", "-wall", "-mandoc",
                         os.path.join(MAN, page)])
                self.assertEqual((r.returncode, r.stderr), (0, ""))

    def test_names(self):
        self.assertTrue(pages())
        for page in pages():
            name, sect = page.rsplit(".", 1)
            with self.subTest(page=page):
                text = read(page)
                self.assertRegex(text, r"(?m)^\.Dt %s %s$" % (
                    re.escape(name.upper()), sect))
                self.assertRegex(text, r"(?m)^\.Sh NAME\n\.Nm %s$"
                                 % re.escape(name))
                # the synopsis names the program by .Nm alone
                self.assertNotRegex(section(text, "SYNOPSIS"),
                                    r"(?m)^\.Nm \S")
                if sect == "8":
                    self.assertIn(name, PROGRAMS, "a page without a "
                                  "program: %s" % page)
                elif name not in FILE_PAGES:
                    helper = os.path.join(BUILD, "libexec", name)
                    self.assertTrue(os.access(helper, os.X_OK),
                                    "no helper %s for %s" % (name, page))
        for name in PROGRAMS:
            self.assertIn(name + ".8", pages())

    def test_options_are_the_programs(self):
        for name, argv in sorted(PROGRAMS.items()):
            with self.subTest(program=name):
                r = run(argv)
                want = usage_flags(r.stderr)
                text = read(name + ".8")
                self.assertEqual(man_flags(section(text, "SYNOPSIS")), want)
                # the option list, when the page has one (queue-fs(8)
                # refers to queue-ram(8) for it)
                desc = section(text, "DESCRIPTION")
                listed = set()
                for m in re.finditer(r"(?m)^\.It (Fl .*)$", desc):
                    listed |= man_flags(m.group(1))
                if listed or name != "queue-fs":
                    self.assertEqual(listed, want)

    def test_smtpctl_commands_are_the_programs(self):
        r = run([os.path.join(BUILD, "smtpctl"), "-h"])
        verbs = set(re.findall(r"(?m)^  ([a-z]+(?: [a-z]+)?) ", r.stderr))
        self.assertTrue(verbs)
        text = section(read("smtpctl.8"), "DESCRIPTION")
        documented = set()
        for m in re.finditer(r"(?m)^\.It Cm ([a-z]+(?: [a-z]+)?)", text):
            documented.add(m.group(1))
        self.assertEqual(documented, verbs)

    def test_examples_parse(self):
        seen = 0
        for page in ("smtpd.conf.5", "table-passwd.5", "aliases.5"):
            for block in re.findall(r"(?ms)^\.Bd -literal[^\n]*\n(.*?)^\.Ed",
                                    read(page)):
                if not re.search(r"(?m)^match ", block):
                    continue
                seen += 1
                with self.subTest(page=page, example=block.split("\n")[0]):
                    self.check_example(block)
        self.assertGreaterEqual(seen, 4)

    def check_example(self, block):
        tmp = tempfile.mkdtemp(prefix="smtpd-man-")
        self.addCleanup(shutil.rmtree, tmp, True)
        text = block.replace("\\e", "\\")
        text = re.sub(r"(?<![\w/])/etc/", tmp + "/etc/", text)
        pki = {}
        for m in re.finditer(r'(?m)^pki (\S+) (cert|key) "?([^"\s]+)', text):
            pki.setdefault(m.group(1), {})[m.group(2)] = m.group(3)
        for cn, files in pki.items():
            for f in files.values():
                os.makedirs(os.path.dirname(f), exist_ok=True)
            r = run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                     "-subj", "/CN=" + cn, "-keyout", files["key"], "-out",
                     files["cert"]])
            self.assertEqual(r.returncode, 0, r.stderr)
            os.chmod(files["key"], 0o600)
        for path in re.findall(re.escape(tmp) + r"/etc/[^\"\s>]+", text):
            if not os.path.exists(path):
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, "w").close()
        conf = os.path.join(tmp, "smtpd.conf")
        with open(conf, "w") as f:
            f.write(text)
        r = run([os.path.join(BUILD, "smtpd"), "-n", "-f", conf, "-o",
                 "libexec=" + os.path.join(BUILD, "libexec")])
        self.assertEqual(r.returncode, 0, text + r.stderr)
        self.assertIn("configuration OK", r.stderr)
