#!/usr/bin/env python3
"""Use-graph of a crate's files: edges from `use crate::/super::/self::` statements
and inline `crate::`/`super::` paths (comments stripped). Prints edges and cycles."""
import os, re, sys

args = [a for a in sys.argv[1:] if not a.startswith('--')]
# --modules: one node per top-level module (src/foo.rs with src/foo/**), the
# crate root (lib.rs/main.rs) only declaring and re-exporting: a module and its
# own submodules may use each other (they are one module); two modules may not.
by_module = '--modules' in sys.argv
root = args[0]  # path to src/
files = {}
for dp, _, fns in os.walk(root):
    for fn in fns:
        if fn.endswith('.rs'):
            p = os.path.join(dp, fn)
            rel = os.path.relpath(p, root)
            parts = rel[:-3].split(os.sep)
            if parts[-1] in ('lib', 'mod', 'main'):
                parts = parts[:-1]
            files[tuple(parts)] = rel
mods = set(files)

def strip_comments(src):
    src = re.sub(r'/\*.*?\*/', '', src, flags=re.S)
    out = []
    for line in src.splitlines():
        # drop // comments (not inside strings: good enough for this crate)
        i = line.find('//')
        while i != -1:
            if line[:i].count('"') % 2 == 0:
                line = line[:i]
                break
            i = line.find('//', i + 2)
        out.append(line)
    return '\n'.join(out)

def expand(tree):
    """Expand a use-tree like `a::{b, c::{d, e}}` into paths."""
    tree = tree.strip()
    m = re.match(r'^(.*?)::\{(.*)\}$', tree, flags=re.S)
    if not m:
        return [re.split(r'\s+as\s+', tree)[0].strip()]
    prefix, inner = m.group(1), m.group(2)
    parts, depth, cur = [], 0, ''
    for ch in inner:
        if ch == '{': depth += 1
        if ch == '}': depth -= 1
        if ch == ',' and depth == 0:
            parts.append(cur); cur = ''
        else:
            cur += ch
    parts.append(cur)
    res = []
    for p in parts:
        p = p.strip()
        if not p: continue
        if p == 'self':
            res.append(prefix)
        else:
            res.extend(prefix + '::' + x for x in expand(p))
    return res

def resolve(cur, path):
    segs = path.split('::')
    if segs[0] == 'crate':
        at, segs = (), segs[1:]
    elif segs[0] in ('super', 'self'):
        at = cur
        while segs and segs[0] in ('super', 'self'):
            if segs[0] == 'super':
                at = at[:-1]
            segs = segs[1:]
    else:
        return None
    for s in segs:
        if at + (s,) in mods:
            at = at + (s,)
        else:
            break
    return at

# Names the crate root re-exports (`pub use a::b::{C, D}`), so that a use of
# `crate::C` counts as a use of the module that defines C.
root_file = files.get(())
reexports = {}
if root_file:
    for m in re.finditer(r'^\s*pub use\s+([^;]+);', strip_comments(open(os.path.join(root, root_file)).read()), flags=re.M):
        for p in expand(m.group(1)):
            p = re.sub(r'\s+', '', p)
            segs = p.split('::')
            if segs[0] in ('crate', 'self'):
                segs = segs[1:]
            if len(segs) >= 2 and (segs[0],) in mods:
                reexports[segs[-1]] = (segs[0],)

edges = {}
def owner(t):
    while t not in mods:
        t = t[:-1]
    return t

def is_test(rel):
    parts = rel.split(os.sep)
    return parts[-1] in ('tests.rs',) or parts[-1].endswith('_tests.rs') or 'tests' in parts[:-1]

for mod, rel in files.items():
    if by_module and is_test(rel):
        continue  # test code is not part of the build: it may use anything
    src = strip_comments(open(os.path.join(root, rel)).read())
    # statements, each with the inline module (`mod x {`) it sits in
    inline, stmts, buf = [], [], None
    for line in src.splitlines():
        m = re.match(r'^(\s*)(?:pub(?:\([\w:]+\))?\s+)?mod\s+(\w+)\s*\{', line)
        if m:
            inline.append((len(m.group(1)), m.group(2)))
            continue
        ind = len(line) - len(line.lstrip())
        if line.strip() == '}' and inline and inline[-1][0] == ind:
            inline.pop()
            continue
        cur = mod + tuple(n for _, n in inline)
        if buf is not None:
            buf[1] += ' ' + line
            if ';' in line:
                stmts.append(tuple(buf)); buf = None
            continue
        m = re.match(r'^\s*(?:pub(?:\([\w:]+\))?\s+)?use\s+(.*)$', line)
        if m:
            if ';' in line:
                stmts.append((cur, m.group(1)))
            else:
                buf = [cur, m.group(1)]
            continue
        for m in re.finditer(r'(?<![\w:])((?:crate|super)(?:::\w+)+)', line):
            stmts.append((cur, m.group(1) + ';'))
    for cur, text in stmts:
        tree = text[:text.index(';')].replace(' ', ' ').strip()
        for p in expand(tree):
            p = re.sub(r'\s+', '', p)
            first = p.split('::')[0]
            if first not in ('crate', 'super', 'self'):
                if owner(cur) + (first,) in mods:  # 2018 relative path to a child module
                    p = 'self::' + p
                else:
                    continue
            t = resolve(cur, p)
            if t is None:
                continue
            if t == () and p.split('::')[0] == 'crate':
                rest = p.split('::')[1:]
                if rest and rest[0] in reexports:
                    t = reexports[rest[0]]
            t = owner(t)
            if t == mod:
                continue
            edges.setdefault(mod, set()).add(t)

if by_module:
    top = lambda m: m[:1]
    collapsed = {}
    for a, bs in edges.items():
        for b in bs:
            ta, tb = top(a), top(b)
            if ta != tb and ta != () and tb != ():
                collapsed.setdefault(ta, set()).add(tb)
    edges = collapsed
    files = {m[:1]: (m[0] + '/' if len(m) else 'lib.rs') for m in list(files)}
    files = {k: (k[0] if k else 'lib.rs') for k in files}

name = lambda m: files[m]
print('edges (file -> files it uses):')
for m in sorted(files, key=name):
    print(f'  {name(m)} -> {", ".join(sorted(name(t) for t in edges.get(m, ()))) or "-"}')

# Tarjan SCC
index, low, stack, on, sccs, i = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in index:
            strong(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        c = []
        while True:
            w = stack.pop(); on.discard(w); c.append(w)
            if w == v: break
        sccs.append(c)
for v in files:
    if v not in index:
        strong(v)
cycles = [c for c in sccs if len(c) > 1]
mutual = sorted({tuple(sorted((name(a), name(b)))) for a in edges for b in edges[a] if a in edges.get(b, ())})
print('mutual uses (A uses B and B uses A):', mutual or 'none')
print('cycles (strongly connected groups of files):', [sorted(name(x) for x in c) for c in cycles] or 'none')
sys.exit(1 if cycles else 0)
