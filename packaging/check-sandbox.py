#!/usr/bin/env python3
"""What the systemd unit's sandbox would refuse, read from strace logs of factually running as
the service would (scripts/test-deb). Containers and CI machines run no systemd, so the unit's
restrictions are checked against what the program actually did:

- SystemCallFilter: every system call made is in the unit's groups (expanded by
  `systemd-analyze syscall-filter`); skipped when systemd-analyze is missing.
- MemoryDenyWriteExecute: no mapping both writable and executable, no mprotect adding
  PROT_EXEC, no shmat with SHM_EXEC.
- RestrictAddressFamilies: every socket() family is allowed (glibc's getaddrinfo opens a
  NETLINK_ROUTE socket to sort addresses; refused, it assumes both IPv4 and IPv6 work, so that
  one is reported and allowed).
- RestrictNamespaces, RestrictRealtime, LockPersonality: no new namespaces, no real-time
  scheduling, no personality change.
- ProtectSystem=strict, PrivateTmp: files are created or written only under the unit's
  writable directories, /tmp and /var/tmp (and /dev/null).
- ProtectHome, PrivateDevices: nothing under /home, /root or /run/user is opened, and no
  device beyond null, zero, full, random, urandom and tty is opened.

Usage: check-sandbox.py UNIT-FILE STRACE-LOG... ; exit status 1 when something would be
refused.
"""

import re
import shutil
import subprocess
import sys

unit_path, logs = sys.argv[1], sys.argv[2:]

unit = {}
for line in open(unit_path, encoding="utf-8"):
    line = line.strip()
    if not line or line[0] in "#;[" or "=" not in line:
        continue
    key, value = line.split("=", 1)
    unit.setdefault(key.strip(), []).append(value.strip())


def last(key):
    return unit.get(key, [""])[-1]


def yes(key):
    return last(key).lower() in ("yes", "true", "1", "on")


CALL = re.compile(r"^\d+\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$")
calls = []  # (name, the rest of the line)
for path in logs:
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = CALL.match(line)
            if m:
                calls.append((m.group(1) or m.group(2), m.group(3)))
names = {name for name, _ in calls}
problems, notes = [], []
print(f"check-sandbox: {len(calls)} system calls of {len(names)} kinds in {len(logs)} log(s)")

# SystemCallFilter
filters = unit.get("SystemCallFilter", [])
if filters and shutil.which("systemd-analyze"):
    listing = subprocess.run(
        ["systemd-analyze", "syscall-filter"], capture_output=True, text=True, check=True
    ).stdout
    groups, current = {}, None
    for line in listing.splitlines():
        if line.startswith("@"):
            current = line.split()[0]
            groups[current] = []
        elif current and line.strip() and not line.strip().startswith("#"):
            groups[current].append(line.strip())

    def expand(item):
        if not item.startswith("@"):
            return {item}
        return set().union(*(expand(i) for i in groups.get(item, [])))

    allowed = set()
    for value in filters:
        deny = value.startswith("~")
        items = set().union(*(expand(i) for i in value.lstrip("~").split()))
        allowed = allowed - items if deny else allowed | items
    refused = sorted(names - allowed - {"exit", "restart_syscall"})
    if refused:
        problems.append(f"SystemCallFilter={' '.join(filters)} refuses: {', '.join(refused)}")
    else:
        print(f"check-sandbox: SystemCallFilter: all {len(names)} kinds of call allowed")
elif filters:
    notes.append("SystemCallFilter not checked: systemd-analyze is missing")

if yes("MemoryDenyWriteExecute"):
    bad = [
        f"{n}({rest[:120]}"
        for n, rest in calls
        if (n in ("mmap", "mmap2") and "PROT_WRITE" in rest and "PROT_EXEC" in rest)
        or (n in ("mprotect", "pkey_mprotect") and "PROT_EXEC" in rest)
        or (n == "shmat" and "SHM_EXEC" in rest)
    ]
    if bad:
        problems.append("MemoryDenyWriteExecute would refuse:\n    " + "\n    ".join(bad[:10]))
    else:
        print("check-sandbox: MemoryDenyWriteExecute: no writable and executable memory")

families = set(last("RestrictAddressFamilies").split())
if families:
    used = {}
    for n, rest in calls:
        if n in ("socket", "socketpair"):
            family = rest.split(",", 1)[0].strip()
            used.setdefault(family, rest.split(")", 1)[0])
    for family, args in sorted(used.items()):
        if family in families:
            continue
        if family == "AF_NETLINK" and "NETLINK_ROUTE" in args:
            notes.append(
                "socket(AF_NETLINK, NETLINK_ROUTE) (glibc's getaddrinfo sorting addresses) is "
                "refused by RestrictAddressFamilies; glibc then assumes IPv4 and IPv6 both work"
            )
            continue
        problems.append(f"RestrictAddressFamilies refuses socket({args})")
    print(f"check-sandbox: socket families used: {', '.join(sorted(used)) or 'none'}")

if yes("RestrictNamespaces"):
    bad = [
        f"{n}({rest[:120]}"
        for n, rest in calls
        if (n in ("clone", "clone3", "unshare") and "CLONE_NEW" in rest) or n == "setns"
    ]
    if bad:
        problems.append("RestrictNamespaces would refuse:\n    " + "\n    ".join(bad[:10]))
if yes("RestrictRealtime"):
    bad = [f"{n}({rest[:80]}" for n, rest in calls if re.search(r"SCHED_(FIFO|RR|DEADLINE)", rest)]
    if bad:
        problems.append("RestrictRealtime would refuse:\n    " + "\n    ".join(bad[:10]))
if yes("LockPersonality"):
    bad = [rest for n, rest in calls if n == "personality" and not rest.startswith("0xffffffff")]
    if bad:
        problems.append(f"LockPersonality would refuse personality({bad[0][:60]}")
if not any(k in p for p in problems for k in ("RestrictNamespaces", "RestrictRealtime", "LockPersonality")):
    print("check-sandbox: RestrictNamespaces, RestrictRealtime, LockPersonality: nothing refused")

# The path a call names (its first string argument) and, for the open calls, the flags.
PATH = re.compile(r'^(?:AT_FDCWD, |\d+, )?"([^"]*)"(?:, ([A-Z_|]+))?')
OPENS = {"open", "openat", "openat2", "creat"}
CHANGES = {"mkdir", "mkdirat", "unlink", "unlinkat", "rename", "renameat", "renameat2", "rmdir",
           "link", "linkat", "symlink", "symlinkat", "chmod", "fchmodat", "chown", "fchownat",
           "truncate", "utimensat", "mknod", "mknodat"}
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC")
DEVICES = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
           "/dev/pts", "/dev/shm", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/fd"]
writable = ["/var/lib/" + d for v in unit.get("StateDirectory", []) for d in v.split()]
writable += ["/var/cache/" + d for v in unit.get("CacheDirectory", []) for d in v.split()]
writable += [p.lstrip("-") for v in unit.get("ReadWritePaths", []) for p in v.split()]
writable += ["/tmp", "/var/tmp", "/dev/null"]
workdir = last("WorkingDirectory") or "/"


def inside(path, dirs):
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in dirs)


written, hidden, devices = set(), set(), set()
for n, rest in calls:
    if n not in OPENS and n not in CHANGES:
        continue
    m = PATH.match(rest)
    if not m or not m.group(1):
        continue
    path = m.group(1)
    if not path.startswith("/"):
        path = workdir.rstrip("/") + "/" + path
    succeeded = not re.search(r"= -1 E", rest)
    writes = n in CHANGES or n == "creat" or any(f in (m.group(2) or "") for f in WRITE_FLAGS)
    # A write refused by the sandbox would fail, whether or not it failed here.
    if writes and not inside(path, writable) and not path.startswith("/proc/self/"):
        written.add(path if n in OPENS else f"{path} ({n})")
    if succeeded and inside(path, ["/home", "/root", "/run/user"]):
        hidden.add(path)
    if succeeded and path.startswith("/dev/") and not inside(path, DEVICES):
        devices.add(path)

if last("ProtectSystem") == "strict" and written:
    problems.append(
        "ProtectSystem=strict makes these read-only, and they were written:\n    "
        + "\n    ".join(sorted(written)[:20])
    )
elif last("ProtectSystem") == "strict":
    print(f"check-sandbox: ProtectSystem=strict: writes only under {', '.join(writable)}")
if yes("ProtectHome") and hidden:
    problems.append("ProtectHome hides these, and they were opened:\n    " + "\n    ".join(sorted(hidden)[:20]))
elif yes("ProtectHome"):
    print("check-sandbox: ProtectHome: nothing under /home, /root or /run/user opened")
if yes("PrivateDevices") and devices:
    problems.append("PrivateDevices hides these devices, and they were opened:\n    " + "\n    ".join(sorted(devices)))
elif yes("PrivateDevices"):
    print("check-sandbox: PrivateDevices: no device but the pseudo-devices opened")

for note in notes:
    print(f"check-sandbox: note: {note}")
for problem in problems:
    print(f"check-sandbox: FAIL: {problem}")
sys.exit(1 if problems else 0)
