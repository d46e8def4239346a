#!/usr/bin/env python3
"""Line counts of non-test files and functions over a limit (rustfmt-formatted code)."""
import os, re, sys
root, limit = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 80
bad = 0
for dp, _, fns in sorted(os.walk(root)):
    for fn in sorted(fns):
        if not fn.endswith('.rs'): continue
        p = os.path.join(dp, fn); rel = os.path.relpath(p, root)
        lines = open(p).read().split('\n')
        if lines and lines[-1] == '': lines.pop()
        test_file = fn == 'tests.rs' or fn.endswith('_tests.rs') or 'tests' in rel.split(os.sep)[:-1]
        # non-test lines: cut #[cfg(test)] mod blocks
        nontest, skip_until = [], None
        j = 0
        while j < len(lines):
            l = lines[j]
            if l.strip() == '#[cfg(test)]' and j + 1 < len(lines) and re.match(r'\s*(pub(\(\w+\))? )?mod \w+ \{', lines[j+1]):
                ind = len(lines[j+1]) - len(lines[j+1].lstrip())
                k = j + 2
                while k < len(lines) and lines[k] != ' ' * ind + '}': k += 1
                j = k + 1
                continue
            nontest.append((j + 1, l)); j += 1
        kind = 'test file' if test_file else f'{len(nontest)} non-test'
        print(f'{len(lines):5d} lines ({kind}) {rel}')
        if not test_file and len(nontest) > 600:
            print('   ^^^ over 600 non-test lines'); bad += 1
        if test_file: continue
        text = [l for _, l in nontest]
        for idx, (ln, l) in enumerate(nontest):
            m = re.match(r'^(\s*)(pub(\([\w:]+\))? )?(const )?(async )?(unsafe )?fn (\w+)', l)
            if not m: continue
            ind = m.group(1)
            k = idx
            # find body start / end
            while k < len(text) and not text[k].rstrip().endswith('{') and not text[k].rstrip().endswith(';'):
                k += 1
            if k < len(text) and text[k].rstrip().endswith(';') and not text[k].rstrip().endswith('{'):
                continue
            e = k
            if text[k].rstrip().endswith('}'):
                pass
            while e < len(text) and text[e] != ind + '}': e += 1
            n = e - idx + 1
            if n > limit:
                print(f'   fn {m.group(7)} at {rel}:{ln}: {n} lines (> {limit})'); bad += 1
print('problems:', bad)
