#!/usr/bin/env python3
"""Per-function costs from a callgrind dump, divided by a request count (see BENCHMARKS.md, "Profiling").

    python3 bench/cgprofile.py DUMP N self [TOP]        functions by their own instructions per request
    python3 bench/cgprofile.py DUMP N callees REGEX     for each function matching REGEX: its callees' inclusive cost
    python3 bench/cgprofile.py DUMP N callers REGEX     for each function matching REGEX: who calls it, how often

DUMP is one dump that `BENCH_KEEP=DIR bash bench/instructions` kept (cg-as-memory.out.1 is the memory backend's
GET, .2 its PUT; cg-as-redis.out.1 to .3 the Redis backend's GET, PUT, PUT with TTL); N the requests it counted.
Names are demangled with `swift demangle --simplified`, and REGEX matches the demangled name. Async functions
appear split at their suspension points, so an inclusive cost can sit under the runtime's task switch.
"""
import collections
import re
import subprocess
import sys


def load(path):
    """Self cost per function, and per (caller, callee) the inclusive cost and number of calls."""
    names = {}
    self_cost = collections.Counter()
    call_cost = collections.defaultdict(collections.Counter)
    call_count = collections.defaultdict(collections.Counter)

    def name(token):
        match = re.match(r"\((\d+)\)(?: (.*))?", token)
        if not match:
            return token
        if match.group(2):
            names[match.group(1)] = match.group(2)
        return names.get(match.group(1), token)

    function = callee = None
    after_calls, calls = False, 0
    with open(path) as dump:
        for line in dump:
            line = line.rstrip("\n")
            if line.startswith("fn="):
                function, after_calls = name(line[3:]), False
            elif line.startswith("cfn="):
                callee = name(line[4:])
            elif line.startswith("calls="):
                after_calls, calls = True, int(line[6:].split()[0])
            elif line and (line[0].isdigit() or line[0] in "+-*"):
                fields = line.split()
                if len(fields) < 2:
                    continue
                cost = int(fields[1])
                if after_calls:
                    call_cost[function][callee] += cost
                    call_count[function][callee] += calls
                    after_calls = False
                else:
                    self_cost[function] += cost
    return set(names.values()) | set(self_cost), self_cost, call_cost, call_count


def demangled(symbols):
    ordered = sorted(symbols)
    output = subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(ordered),
                            capture_output=True, text=True, check=True).stdout.splitlines()
    return dict(zip(ordered, output)) if len(output) == len(ordered) else {s: s for s in ordered}


def main(argv):
    if len(argv) < 4 or argv[3] not in ("self", "callees", "callers"):
        sys.exit(__doc__)
    path, requests, mode = argv[1], int(argv[2]), argv[3]
    symbols, self_cost, call_cost, call_count = load(path)
    names = demangled(symbols)
    total = sum(self_cost.values())
    print(f"{path}: {total / requests:.0f} instructions per request")
    if mode == "self":
        for function, cost in self_cost.most_common(int(argv[4]) if len(argv) > 4 else 40):
            print(f"{cost / requests:9.0f} {100 * cost / total:5.1f}%  {names.get(function, function)[:160]}")
        return
    if len(argv) < 5:
        sys.exit(__doc__)
    pattern = re.compile(argv[4])
    for function in sorted(symbols, key=lambda s: names.get(s, s)):
        if not pattern.search(names.get(function, function)):
            continue
        if mode == "callees":
            inclusive = self_cost[function] + sum(call_cost[function].values())
            print(f"== {inclusive / requests:.0f} (self {self_cost[function] / requests:.0f})  {names.get(function, function)[:140]}")
            for callee, cost in call_cost[function].most_common(25):
                print(f"   {cost / requests:8.0f}  {names.get(callee, callee)[:140]}")
        else:
            callers = collections.Counter({caller: costs[function] for caller, costs in call_cost.items() if function in costs})
            print(f"== {names.get(function, function)[:140]}")
            for caller, cost in callers.most_common(25):
                print(f"   {cost / requests:8.0f} {call_count[caller][function] / requests:6.1f} calls  {names.get(caller, caller)[:140]}")


if __name__ == "__main__":
    main(sys.argv)
