"""Runs README.md's command blocks as a user would, so none can go stale.

Every ```bash block carries, on the line before it, how the suite covers it:
  <!-- readme: run -->                  run here, as written
  <!-- readme: run, except LINE -->     run here, all but lines that start with LINE
  <!-- readme: covered by PATH: WHY --> run elsewhere (PATH must exist and be named in
                                        scripts/test.sh), e.g. a script with its own stage
A bash block without such a line fails the run.

A block runs in bash from the repository root, with the release binaries (`balance-alert` on
PATH and `target/release/`), a copy of examples/config.json as `config.json` when there is none,
the fake provider (`FAKE_URL`), a fresh database (`DATABASE_PATH`), and free ports for the
server (`LISTEN`, `METRICS_LISTEN`) and for moto (`5005` in a block becomes a free port). Every
command must succeed, except `check`, whose exit 1 means "something needs attention" (the demo
has LOW projects on purpose). A server started in the foreground (`serve`, `./scripts/run.sh`)
is started, waited for until its /health answers, and left running for the rest of the block;
everything a block started is stopped when it ends.

Usage: python scripts/readme_blocks.py BIN_DIR      (the release binaries' directory)
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRECTIVE = re.compile(r"<!--\s*readme:\s*(.*?)\s*-->")
SERVERS = ("balance-alert serve", "target/release/balance-alert serve", "./scripts/run.sh")
PRELUDE = r"""
set -o pipefail -o errtrace
readme_failed() {
  local rc=$1 cmd=$2
  case "$cmd" in
    *" check "* | *" check") [ "$rc" -le 1 ] && return 0 ;;
  esac
  echo "readme: exit $rc from: $cmd" >&2
  exit "$rc"
}
trap 'readme_failed $? "$BASH_COMMAND"' ERR
readme_wait_up() {
  for _ in $(seq 6000); do
    curl -sf -o /dev/null "http://$LISTEN/health" && return 0
    kill -0 "$1" 2>/dev/null || { echo "readme: the server exited before answering" >&2; exit 1; }
    sleep 0.1
  done
  echo "readme: the server did not answer on $LISTEN" >&2
  exit 1
}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def blocks(text):
    """(line number, directive or None, code) of every ```bash block."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```bash":
            start = i
            j = i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            m = DIRECTIVE.search(lines[j]) if j >= 0 else None
            i += 1
            body = []
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            out.append((start + 1, m.group(1) if m else None, "\n".join(body)))
        i += 1
    return out


def logical_lines(code):
    """The block's lines with backslash continuations joined."""
    out, cur = [], ""
    for line in code.split("\n"):
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
        else:
            out.append(cur + line)
            cur = ""
    if cur:
        out.append(cur)
    return out


def script_for(code, except_prefix):
    lines = []
    for line in logical_lines(code):
        bare = line.split(" #")[0].strip()
        if except_prefix and bare.startswith(except_prefix):
            continue
        if bare.startswith(SERVERS) and not bare.endswith("&"):
            line = f"{bare} & readme_wait_up $!"
        lines.append(line)
    return PRELUDE + "\n".join(lines) + "\n"


def run_block(lineno, code, except_prefix, env):
    script = script_for(code, except_prefix)
    moto = str(free_port())
    script = script.replace("5005", moto)
    print(f"--- README.md:{lineno}", flush=True)
    started = time.time()
    proc = subprocess.Popen(["bash", "-c", script], cwd=ROOT, env=env, start_new_session=True)
    try:
        rc = proc.wait(timeout=1200)
    except subprocess.TimeoutExpired:
        rc = "timeout (20 min)"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        time.sleep(0.5)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    print(f"--- README.md:{lineno}: {'ok' if rc == 0 else f'FAILED ({rc})'} in {time.time() - started:.0f} s", flush=True)
    return rc == 0


def covered(lineno, how, test_sh):
    m = re.match(r"covered by (\S+?):\s*(.+)", how)
    if not m:
        return f"README.md:{lineno}: write 'covered by PATH: why', not {how!r}"
    path = m.group(1)
    if not os.path.exists(os.path.join(ROOT, path)):
        return f"README.md:{lineno}: {path} does not exist"
    if path != "scripts/test.sh" and path not in test_sh:
        return f"README.md:{lineno}: {path} is not run by scripts/test.sh"
    return None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("Usage: ")[1])
    bin_dir = os.path.abspath(sys.argv[1])
    for b in ("balance-alert", "fake-providers"):
        if not os.access(os.path.join(bin_dir, b), os.X_OK):
            sys.exit(f"{bin_dir}/{b} is missing: cargo build --release -p balance-alert -p fake-providers")
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    test_sh = open(os.path.join(ROOT, "scripts/test.sh"), encoding="utf-8").read()
    work = tempfile.mkdtemp(prefix="readme-")
    made = []  # paths this run created in the repository (removed at the end)
    fake = None
    try:
        os.makedirs(os.path.join(work, "bin"))
        os.symlink(os.path.join(bin_dir, "balance-alert"), os.path.join(work, "bin", "balance-alert"))
        for path, source in (("config.json", None), ("target", os.path.dirname(bin_dir))):
            full = os.path.join(ROOT, path)
            if os.path.lexists(full):
                continue
            if source:
                os.symlink(source, full)
            else:
                shutil.copy(os.path.join(ROOT, "examples/config.json"), full)
            made.append(full)
        fake_port = free_port()
        fake = subprocess.Popen([os.path.join(bin_dir, "fake-providers"), "--listen", f"127.0.0.1:{fake_port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BALANCE_ALERT_"))}
        env.update({
            "PATH": os.path.join(work, "bin") + os.pathsep + env.get("PATH", ""),
            "FAKE_URL": f"http://127.0.0.1:{fake_port}",
            "DATABASE_PATH": os.path.join(work, "balance_alert.db"),
            "LISTEN": f"127.0.0.1:{free_port()}",
            "METRICS_LISTEN": f"127.0.0.1:{free_port()}",
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_COLOR": "1",
        })
        problems, ran = [], 0
        for lineno, how, code in blocks(text):
            if how is None:
                problems.append(f"README.md:{lineno}: a bash block without a <!-- readme: … --> line saying how the suite runs it")
            elif how == "run" or how.startswith("run, except "):
                except_prefix = how[len("run, except "):] if how != "run" else None
                ran += 1
                if not run_block(lineno, code, except_prefix, env):
                    problems.append(f"README.md:{lineno}: the block failed (output above)")
            else:
                problem = covered(lineno, how, test_sh)
                if problem:
                    problems.append(problem)
                else:
                    print(f"--- README.md:{lineno}: {how}")
        if problems:
            sys.exit("README blocks:\n  " + "\n  ".join(problems))
        print(f"README: {ran} blocks ran, the others are covered where they say")
    finally:
        if fake:
            fake.kill()
        for path in made:
            if os.path.islink(path) or os.path.isfile(path):
                os.remove(path)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
