#!/usr/bin/python3
"""Runs the bad-input corpus (tests/corpus/cases.ini) under 1 and 3 ranks and checks every case's
exact expected outcome; see the comment at the top of cases.ini for the keys.

For every case and rank count:
  exit != 0: the exit status; exactly one "rfmseg: error:" line on stderr, printed by rank 0
      (mpiexec --tag-output), containing every `error` text; no result file is created, and an
      existing one (placed there under 3 ranks) is left byte-identical with nothing beside it;
  exit 0: every count_* attribute of /run (unlisted ones 0), the console's counter line,
      customers, snapshot, exact R/F/M rows, bad-line examples, input formats, datasets;
  always: each `stderr` text exactly once (warnings come from rank 0 only), no crash trace.
Then the two rank counts must agree: the same error line (the "[rank N] " that names the finder
aside), or the same datasets bit for bit and the same counters.

Called by bad_input_corpus.sh (CTest e2e.bad_input_corpus); by hand:
  /usr/bin/python3 tests/e2e/bad_input_corpus.py --rfmseg build/src/rfmseg [--case NAME ...]
Exit status 0 (all passed; known bugs as XFAIL), 1 (a case failed), 2 (usage or setup error).
"""

import argparse
import concurrent.futures
import configparser
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

FATES = ["bad_field_count", "bad_customer_id", "bad_number", "bad_date", "missing_customer", "after_snapshot",
         "outside_window", "duplicate", "cancellation", "zero_quantity", "nonpositive_price", "kept"]
# Customers, not lines: in /run as count_<name> too, but not in the console's counter line.
CUSTOMER_COUNTERS = ["nonpositive_monetary_customers"]
COUNTERS = ["lines", "blank_lines"] + FATES + CUSTOMER_COUNTERS
RANKS = (1, 3)
NOBODY = 65534
# Under 3 ranks a failing case finds an earlier result at its output (a real rfmseg result: rfmseg
# refuses to replace anything else), which must stay byte-identical. Made once by probe().
# /run attributes that must not depend on the rank count (times, paths and traffic may).
STABLE_ATTRIBUTES = ("customers", "snapshot_date", "bad_line_examples", "input_files", "input_formats", "k",
                     "frequency", "cancellations", "duplicates", "date_order")
CRASH = re.compile(r"terminate called|Segmentation|what\(\):|Traceback|rfmseg: fatal:|MPI_ABORT|Aborted")
TAG = re.compile(r"^\[(\d+),(\d+)\]<(stdout|stderr)>:")
KEYS = {"input", "args", "output", "user", "exit", "error", "stderr", "stdout", "counts", "customers", "snapshot",
        "rfm", "examples", "formats", "h5", "run", "known_bug", "note"}


class Case:
    def __init__(self, name, section):
        self.name = name
        unknown = set(section.keys()) - KEYS
        if unknown:
            raise ValueError(f"[{name}] unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(KEYS))})")
        get = section.get
        self.inputs = get("input", "").split()
        self.args = shlex.split(get("args", ""))
        self.output = get("output", "").strip()
        self.user = get("user", "").strip()
        if self.user not in ("", "unprivileged"):
            raise ValueError(f"[{name}] user must be 'unprivileged' or absent, not '{self.user}'")
        self.exit = int(get("exit"))
        self.error = lines_of(get("error", ""))
        self.stderr = lines_of(get("stderr", ""))
        self.stdout = lines_of(get("stdout", ""))
        self.counts = None
        if "counts" in section:
            self.counts = {}
            for item in get("counts").split():
                key, _, value = item.partition("=")
                if key not in COUNTERS:
                    raise ValueError(f"[{name}] counts: unknown counter '{key}' (known: {' '.join(COUNTERS)})")
                self.counts[key] = int(value)
        self.customers = int(get("customers")) if "customers" in section else None
        self.snapshot = get("snapshot", "").strip() or None
        self.rfm = [line.split() for line in lines_of(get("rfm", ""))]
        for row in self.rfm:
            if len(row) != 4:
                raise ValueError(f"[{name}] rfm: '{' '.join(row)}' is not 'id recency frequency monetary'")
        self.examples = lines_of(get("examples", ""))
        self.formats = get("formats", "").split() or None
        self.h5 = []
        for line in lines_of(get("h5", "")):
            path, _, values = line.partition(":")
            self.h5.append((path.strip(), [float(v) for v in values.split()]))
        self.run = []
        for line in lines_of(get("run", "")):
            name, _, value = line.partition(":")
            self.run.append((name.strip(), value.strip()))
        self.known_bug = " ".join(get("known_bug", "").split())
        if self.exit != 0 and not self.error:
            raise ValueError(f"[{name}] exit {self.exit} needs an 'error' text")
        if self.exit == 0 and self.counts is None:
            raise ValueError(f"[{name}] exit 0 needs 'counts'")


def lines_of(text):
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


class Driver:
    def __init__(self, options):
        self.o = options
        self.corpus = os.path.realpath(options.corpus)
        self.inputs = os.path.join(self.corpus, "inputs")
        self.work = os.path.realpath(options.work)
        self.preflags = options.preflags.replace(";", " ").split()
        self.tagged = False
        self.unprivileged_prefix, self.unprivileged_skip = None, "not probed"

    def probe(self):
        """What the launcher and the system allow (after prepare(): the probe reads work/good.csv)."""
        self.tagged = self._supports_tag_output()
        self.unprivileged_prefix, self.unprivileged_skip = self._unprivileged()
        earlier = os.path.join(self.work, "earlier-result.h5")
        subprocess.run([self.o.mpiexec, "-n", "1", *self.preflags, self.o.rfmseg, "--input",
                        os.path.join(self.inputs, "good.csv"), "--k", "1", "--quiet", "--output", earlier],
                       check=True, timeout=120)
        with open(earlier, "rb") as f:
            self.sentinel = f.read()

    # ---------------------------------------------------------------- set-up

    def _supports_tag_output(self):
        # --tag-output (Open MPI) prefixes each line with [job,rank]: proves who printed the error.
        try:
            text = subprocess.run([self.o.mpiexec, "--version"], capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.TimeoutExpired):
            return False
        return "Open MPI" in text or "OpenRTE" in text

    def _unprivileged(self):
        """How to run a case as a user that permissions apply to: (command prefix, skip reason)."""
        if os.geteuid() != 0:
            return [], None
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            return None, "running as root and setpriv (util-linux) is missing"
        prefix = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        probe = subprocess.run(prefix + ["test", "-x", self.o.rfmseg, "-a", "-r", os.path.join(self.work, "good.csv")],
                               capture_output=True)
        if probe.returncode != 0:
            return None, (f"nobody cannot run {self.o.rfmseg} or read {self.work}/good.csv "
                          "(a private directory on the way?)")
        return prefix, None

    def prepare(self):
        """Scratch fixtures: reachable by nobody (the cases run as nobody read and write here)."""
        os.chmod(self.work, 0o711)
        shutil.copy(os.path.join(self.inputs, "good.csv"), os.path.join(self.work, "good.csv"))
        os.chmod(os.path.join(self.work, "good.csv"), 0o644)
        locked = os.path.join(self.work, "locked.csv")
        shutil.copy(os.path.join(self.inputs, "good.csv"), locked)
        os.chmod(locked, 0)
        readonly = os.path.join(self.work, "readonly")
        os.mkdir(readonly)
        os.chmod(readonly, 0o555)
        scratch = os.path.join(self.work, "tmp")
        os.mkdir(scratch)
        os.chmod(scratch, 0o1777)
        # The 1 MiB lines are generated rather than kept in the repository.
        header = b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        mib = 1 << 20
        with open(os.path.join(self.work, "long_line.csv"), "wb") as f:
            f.write(header)
            f.write(b"536365,A," + b"X" * mib + b",1,2011-01-01,1.00,C1,UK\n")
            f.write(b"536366,A,X,1,2011-01-02,1.00," + b"Z" * 256 + b",UK\n")
            f.write(b"536367,A,X,1,2011-01-02,1.00," + b"Z" * 257 + b",UK\n")
            f.write(b"Y" * mib + b"\n")
            f.write(b"536368,A,X,2,2011-01-03,1.00,C2,UK\n")

    def expand(self, text):
        return text.replace("{inputs}", self.inputs).replace("{work}", self.work)

    def input_path(self, token):
        return self.expand(token) if "{" in token else os.path.join(self.inputs, token)

    # ---------------------------------------------------------------- one run

    def run(self, case, n):
        """Runs `case` under n ranks; returns a dict with what happened."""
        rundir = os.path.join(self.work, "runs", f"{case.name}.np{n}")
        os.makedirs(rundir)
        unprivileged = case.user == "unprivileged"
        if unprivileged:
            os.chmod(rundir, 0o1777)
        default_output = not case.output
        output = os.path.join(rundir, "result.h5") if default_output else self.expand(case.output)
        sentinel = default_output and case.exit != 0 and n == RANKS[-1]
        if sentinel:
            with open(output, "wb") as f:
                f.write(self.sentinel)
        command = [self.o.mpiexec, "-n", str(n), *self.preflags]
        if self.tagged:
            command.append("--tag-output")
        command += [self.o.rfmseg]
        for token in case.inputs:
            command += ["--input", self.input_path(token)]
        command += [self.expand(arg) for arg in case.args] + ["--output", output]
        env = dict(os.environ)
        # Open MPI waits ~2 s after a rank exits non-zero before it reaps the others; every rank
        # has already exited by then (rank 0 prints before MPI_Finalize, whose fence the others
        # wait in), so the wait only makes the failing half of the corpus slow.
        env.setdefault("OMPI_MCA_odls_base_sigkill_timeout", "0")
        if unprivileged:
            command = self.unprivileged_prefix + command
            env["TMPDIR"] = os.path.join(self.work, "tmp")  # Open MPI's session directory
        # A session of its own: a hung run is ended with its ranks and nothing else.
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                   start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=self.o.timeout)
        except subprocess.TimeoutExpired:
            # SIGTERM lets mpiexec take its ranks down with it (they may sit in process groups
            # of their own); whatever is left of the session then gets SIGKILL.
            process.terminate()
            try:
                process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.communicate()
            return {"n": n, "timeout": True, "rc": None, "stdout": "", "stderr": "", "output": output,
                    "rundir": rundir, "sentinel": sentinel, "command": command, "seconds": self.o.timeout}
        return {"n": n, "timeout": False, "rc": process.returncode, "output": output, "rundir": rundir,
                "sentinel": sentinel, "command": command, "seconds": time.monotonic() - started,
                "stdout": stdout.decode("latin-1"), "stderr": stderr.decode("latin-1")}

    # ---------------------------------------------------------------- checks

    def lines(self, text, stream):
        """(rank or None, line) of one stream, tags removed."""
        out = []
        for line in text.splitlines():
            m = TAG.match(line)
            if m:
                if m.group(3) == stream:
                    out.append((int(m.group(2)), line[m.end():]))
            else:
                out.append((None, line))
        return out

    def check_run(self, case, r):
        """Problems of one run, and a summary of its outcome for the cross-rank comparison."""
        problems = []
        n = r["n"]
        if r["timeout"]:
            return [f"np{n}: no exit within {self.o.timeout} s (killed)"], None
        err_lines = self.lines(r["stderr"], "stderr")
        out_lines = self.lines(r["stdout"], "stdout")
        if r["rc"] != case.exit:
            tail = " | ".join(line for _, line in err_lines[-6:])
            problems.append(f"np{n}: exit status {r['rc']}, expected {case.exit} (stderr: {tail[:600]})")
        if CRASH.search(r["stderr"]):
            problems.append(f"np{n}: stderr shows a crash: {r['stderr'][:400]}")
        expected_stderr = [self.expand(text) for text in case.stderr]
        for text in expected_stderr:
            hits = [(rank, line) for rank, line in err_lines if text in line]
            if len(hits) != 1:
                problems.append(f"np{n}: stderr holds [{text}] {len(hits)} times, expected once")
            elif self.tagged and hits[0][0] != 0:
                problems.append(f"np{n}: [{text}] printed by rank {hits[0][0]}, expected rank 0")
        for _, line in err_lines:
            if "rfmseg: warning:" in line and not any(text in line for text in expected_stderr):
                problems.append(f"np{n}: unexpected warning on stderr: {line}")
        errors = [(rank, line) for rank, line in err_lines if "rfmseg: error:" in line]
        summary = None
        if case.exit != 0 or r["rc"] != 0:
            if len(errors) != 1:
                problems.append(f"np{n}: {len(errors)} 'rfmseg: error:' lines on stderr, expected 1")
            if errors:
                rank, line = errors[0]
                if self.tagged and rank != 0:
                    problems.append(f"np{n}: the error was printed by rank {rank}, expected rank 0")
                message = error_message(err_lines, errors[0])
                for text in case.error:
                    if self.expand(text) not in message:
                        problems.append(f"np{n}: error message [{message}] lacks [{self.expand(text)}]")
                summary = ("error", r["rc"], re.sub(r"\[rank \d+\] ", "", message))
            problems += self.check_no_result(case, r)
            return problems, summary
        problems += self.check_result(case, r, out_lines)
        return problems, ("result", r["output"])

    def check_no_result(self, case, r):
        problems = []
        n = r["n"]
        if r["sentinel"]:
            with open(r["output"], "rb") as f:
                if f.read() != self.sentinel:
                    problems.append(f"np{n}: the existing result {r['output']} was changed")
        elif os.path.exists(r["output"]):
            problems.append(f"np{n}: a failed run left {r['output']}")
        expected = ["result.h5"] if r["sentinel"] else []
        left = sorted(os.listdir(r["rundir"]))
        if left != expected:
            problems.append(f"np{n}: after the failed run the output directory holds {left}, expected {expected}")
        return problems

    def check_result(self, case, r, out_lines):
        problems = []
        n = r["n"]
        left = sorted(os.listdir(r["rundir"]))
        if not case.output and left != ["result.h5"]:
            return [f"np{n}: the output directory holds {left}, expected only result.h5"]
        with h5py.File(r["output"], "r") as f:
            attrs = f["run"].attrs
            counts = {}
            for key in attrs:
                if key.startswith("count_"):
                    counts[key[len("count_"):]] = int(attrs[key])
            missing = [c for c in COUNTERS if c not in counts]
            if missing:
                problems.append(f"np{n}: /run lacks count_{', count_'.join(missing)}")
            wrong = {k: (v, case.counts.get(k, 0)) for k, v in counts.items() if v != case.counts.get(k, 0)}
            if wrong:
                problems.append(f"np{n}: counters (got, expected): {wrong}")
            if sum(counts.get(fate, 0) for fate in FATES) != counts.get("lines"):
                problems.append(f"np{n}: the fates do not add up to count_lines: {counts}")
            problems += self.check_log(case, n, out_lines)
            ids = [bytes(x) for x in f["customers/customer_id"][:]]
            if case.customers is not None:
                if int(attrs["customers"]) != case.customers or len(ids) != case.customers:
                    problems.append(f"np{n}: customers {int(attrs['customers'])} ({len(ids)} rows), "
                                    f"expected {case.customers}")
            if case.snapshot is not None and text_of(attrs["snapshot_date"]) != case.snapshot:
                problems.append(f"np{n}: snapshot {text_of(attrs['snapshot_date'])}, expected {case.snapshot}")
            recency, frequency, monetary = (f["customers/" + c][:] for c in ("recency", "frequency", "monetary"))
            for cid, rec, freq, money in case.rfm:
                key = cid.encode("latin-1")
                if key not in ids:
                    problems.append(f"np{n}: customer {cid} is missing (ids: {[i[:20] for i in ids]})")
                    continue
                i = ids.index(key)
                got = (int(recency[i]), int(frequency[i]), float(monetary[i]))
                # float() of the decimal text is its correctly rounded double, as the sum must be.
                want = (int(rec), int(freq), float(money))
                if got != want:
                    problems.append(f"np{n}: customer {cid}: R, F, M = {got}, expected {want}")
            examples = text_of(attrs["bad_line_examples"])
            for text in case.examples:
                if self.expand(text) not in examples:
                    problems.append(f"np{n}: bad_line_examples lacks [{self.expand(text)}]: {examples[:800]}")
            if case.formats is not None:
                formats = text_of(attrs["input_formats"]).split("\n")
                if formats != case.formats:
                    problems.append(f"np{n}: input_formats {formats}, expected {case.formats}")
            for name, value in case.run:
                got = text_of(attrs[name]) if name in attrs else None
                if got != self.expand(value):
                    problems.append(f"np{n}: /run {name} = {got!r}, expected {self.expand(value)!r}")
            for path, values in case.h5:
                if path not in f:
                    problems.append(f"np{n}: dataset {path} is missing")
                    continue
                got = np.asarray(f[path][()], dtype=float).ravel()
                if got.shape != (len(values),) or not np.array_equal(got, np.asarray(values)):
                    problems.append(f"np{n}: {path} = {got.tolist()}, expected {values}")
        stdout = "\n".join(line for _, line in out_lines)
        for text in case.stdout:
            if self.expand(text) not in stdout:
                problems.append(f"np{n}: the console report lacks [{text}]")
        return problems

    def check_log(self, case, n, out_lines):
        """The console's "lines N: kept K, fate n, ..., blank n" must match the expected counters."""
        found = [line for rank, line in out_lines if re.match(r"lines \d+: kept \d+", line)]
        if len(found) != 1:
            return [f"np{n}: {len(found)} counter lines ('lines N: kept K, ...') in the console report, expected 1"]
        m = re.match(r"lines (\d+): kept (\d+)(.*)$", found[0])
        got = {"lines": int(m.group(1)), "kept": int(m.group(2))}
        for name, value in re.findall(r", (\w+) (\d+)", m.group(3)):
            got["blank_lines" if name == "blank" else name] = int(value)
        want = {k: v for k, v in case.counts.items() if v != 0 and k not in CUSTOMER_COUNTERS}
        want.setdefault("kept", 0)
        want.setdefault("lines", 0)
        if got != want:
            return [f"np{n}: console counters {got}, expected {want}"]
        return []

    def compare_ranks(self, case, summaries):
        """Both rank counts must give the same outcome."""
        (n1, a), (n2, b) = summaries
        if a is None or b is None:
            return []
        if a[0] != b[0]:
            return [f"np{n1} and np{n2} disagree: {a[0]} vs {b[0]}"]
        if a[0] == "error":
            return [] if a == b else [f"np{n1} and np{n2} disagree: {a[1:]} vs {b[1:]}"]
        problems = []
        with h5py.File(a[1], "r") as fa, h5py.File(b[1], "r") as fb:
            names_a, names_b = datasets(fa), datasets(fb)
            if names_a != names_b:
                return [f"np{n1} and np{n2} write different datasets: {sorted(set(names_a) ^ set(names_b))}"]
            for name in names_a:
                x, y = fa[name][()], fb[name][()]
                if np.asarray(x).tobytes() != np.asarray(y).tobytes() or np.shape(x) != np.shape(y):
                    problems.append(f"np{n1} and np{n2} differ in {name}")
            ra, rb = fa["run"].attrs, fb["run"].attrs
            for key in sorted(set(ra) | set(rb)):
                if key.startswith("count_") or key in STABLE_ATTRIBUTES:
                    if key not in ra or key not in rb or text_of(ra[key]) != text_of(rb[key]):
                        problems.append(f"np{n1} and np{n2} differ in /run {key}")
        return problems


def error_message(err_lines, error):
    """The "rfmseg: error:" line and the indented lines that continue it (counters, examples,
    hints), from the same rank."""
    start = err_lines.index(error)
    lines = [error[1]]
    for rank, line in err_lines[start + 1:]:
        if rank != error[0] or not line.startswith("  "):
            break
        lines.append(line)
    return "\n".join(lines)


def text_of(value):
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, np.ndarray):
        return repr(value.tolist())
    return str(value)


def datasets(f):
    names = []
    f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
    return sorted(names)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rfmseg", required=True, help="the rfmseg executable")
    p.add_argument("--mpiexec", default="mpiexec")
    p.add_argument("--preflags", default="", help="MPI launcher flags (blank- or ;-separated)")
    p.add_argument("--corpus", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus"))
    p.add_argument("--work", help="scratch directory (default: a new temporary one, removed at the end)")
    p.add_argument("--case", action="append", help="run only this case (repeatable)")
    p.add_argument("--jobs", type=int, default=int(os.environ.get("RFMSEG_CORPUS_JOBS", "2")),
                   help="runs at a time (default 2, or $RFMSEG_CORPUS_JOBS)")
    p.add_argument("--timeout", type=float, default=120, help="seconds one run may take")
    options = p.parse_args()
    options.rfmseg = os.path.realpath(options.rfmseg)
    if not os.access(options.rfmseg, os.X_OK):
        print(f"error: {options.rfmseg} is not an executable", file=sys.stderr)
        return 2

    manifest = configparser.ConfigParser(interpolation=None, comment_prefixes=("#",), empty_lines_in_values=False)
    manifest_path = os.path.join(options.corpus, "cases.ini")
    if not manifest.read(manifest_path, encoding="utf-8"):
        print(f"error: cannot read {manifest_path}", file=sys.stderr)
        return 2
    try:
        cases = [Case(name, manifest[name]) for name in manifest.sections()]
    except (ValueError, KeyError) as e:
        print(f"error: {manifest_path}: {e}", file=sys.stderr)
        return 2
    if options.case:
        unknown = set(options.case) - {c.name for c in cases}
        if unknown:
            print(f"error: no case {', '.join(sorted(unknown))} in {manifest_path}", file=sys.stderr)
            return 2
        cases = [c for c in cases if c.name in options.case]

    own_work = options.work is None
    options.work = options.work or tempfile.mkdtemp(prefix="rfmseg-corpus.")
    try:
        return run_all(options, cases)
    finally:
        if own_work:
            shutil.rmtree(options.work, ignore_errors=True)


def run_all(options, cases):
    driver = Driver(options)
    driver.prepare()
    driver.probe()

    runnable, skipped = [], []
    for case in cases:
        if case.user == "unprivileged" and driver.unprivileged_skip:
            skipped.append((case, driver.unprivileged_skip))
        else:
            runnable.append(case)
    # The generated 1 MiB case first: the slowest run should not come last.
    runnable.sort(key=lambda c: 0 if "long_line" in " ".join(c.inputs) else 1)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        futures = {(c.name, n): pool.submit(driver.run, c, n) for c in runnable for n in RANKS}
        results = {key: future.result() for key, future in futures.items()}

    failed, xfail, xpass = [], [], []
    for case in runnable:
        problems, summaries = [], []
        for n in RANKS:
            p, summary = driver.check_run(case, results[(case.name, n)])
            problems += p
            summaries.append((n, summary))
        if not problems:
            problems += driver.compare_ranks(case, summaries)
        outcome = outcome_text(results[(case.name, RANKS[0])], case)
        if case.known_bug:
            if problems:
                xfail.append(case)
                print(f"XFAIL {case.name}: {problems[0]}\n      known bug: {case.known_bug}")
            else:
                xpass.append(case)
                print(f"XPASS {case.name}: {outcome} -- the known bug is fixed: remove its known_bug mark")
        elif problems:
            failed.append(case)
            print(f"FAIL  {case.name}:")
            for problem in problems:
                print(f"      {problem}")
            print(f"      command: {shlex.join(results[(case.name, RANKS[0])]['command'])}")
        else:
            print(f"ok    {case.name}: {outcome}")
    for case, reason in skipped:
        print(f"SKIP  {case.name}: {reason}")
    print(f"{len(runnable) - len(failed) - len(xfail) - len(xpass)} passed, {len(failed)} failed, "
          f"{len(xfail)} known bugs (XFAIL), {len(xpass)} XPASS, {len(skipped)} skipped; "
          f"{len(runnable) * len(RANKS)} runs under {' and '.join(map(str, RANKS))} ranks")
    # Informational (a shared machine's timings assert nothing): where the time goes.
    slowest = sorted(results.items(), key=lambda item: -item[1]["seconds"])[:3]
    print(f"runs took {time.monotonic() - started:.1f} s with {options.jobs} at a time; slowest: " +
          ", ".join(f"{name} np{n} {r['seconds']:.1f} s" for (name, n), r in slowest))
    return 1 if failed else 0


def outcome_text(r, case):
    if r["timeout"]:
        return "timeout"
    if r["rc"] != 0:
        for line in r["stderr"].splitlines():
            if "rfmseg: error:" in line:
                return f"exit {r['rc']}: {TAG.sub('', line)[len('rfmseg: error: '):][:140]}"
        return f"exit {r['rc']}"
    try:
        with h5py.File(r["output"], "r") as f:
            attrs = f["run"].attrs
            counts = " ".join(f"{c}={int(attrs['count_' + c])}" for c in COUNTERS
                              if int(attrs.get("count_" + c, 0)) != 0)
            return f"exit 0: {counts}, {int(attrs['customers'])} customers"
    except (OSError, KeyError):
        return "exit 0 (no readable result)"


if __name__ == "__main__":
    sys.exit(main())
