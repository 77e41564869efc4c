#!/usr/bin/env python3
"""Import cycles between modules inside each crate (top-level modules, and their direct submodules),
from `use crate::…`/`super::…` paths outside comments and tests. Usage:
    python3 scripts/module_cycles.py shared/*/src src frontend/src
Prints each cycle (strongly connected component); prints nothing else when there is none."""
import os,re,sys,itertools
def crate_modules(src):
    graph={}
    for root,_,files in os.walk(src):
        for f in files:
            if not f.endswith('.rs') or f=='tests.rs': continue
            p=os.path.join(root,f); rel=os.path.relpath(p,src)[:-3].split(os.sep)
            if rel[-1]=='mod': rel=rel[:-1]
            if rel in (['lib'],['main']): rel=[]
            mod='::'.join(rel)
            text=open(p).read()
            text=text.split('#[cfg(test)]')[0]
            text='\n'.join(l for l in text.split('\n') if not l.strip().startswith('//'))
            deps=set()
            for m in re.finditer(r'\bcrate::([a-z_0-9]+)(?:::([a-z_0-9]+))?', text):
                deps.add(m.group(1) if not m.group(2) or not rel or rel[0]!=m.group(1) else m.group(1)+'::'+m.group(2))
            for m in re.finditer(r'\bsuper::([a-z_0-9]+)', text):
                parent=rel[:-1]
                if parent: deps.add('::'.join(parent+[m.group(1)]))
            graph.setdefault(mod,set()).update(d for d in deps)
    return graph
def level(mod, depth): return '::'.join(mod.split('::')[:depth]) if mod else ''
def sccs(g):
    index={}; low={}; st=[]; on=set(); out=[]; i=[0]
    def strong(v):
        index[v]=low[v]=i[0]; i[0]+=1; st.append(v); on.add(v)
        for w in g.get(v,()):
            if w not in index: strong(w); low[v]=min(low[v],low[w])
            elif w in on: low[v]=min(low[v],index[w])
        if low[v]==index[v]:
            comp=[]
            while True:
                w=st.pop(); on.discard(w); comp.append(w)
                if w==v: break
            if len(comp)>1: out.append(sorted(comp))
    for v in list(g): 
        if v not in index: strong(v)
    return out
for src in sys.argv[1:]:
    gr=crate_modules(src)
    for depth in (1,2):
        g={}
        for m,ds in gr.items():
            a=level(m,depth)
            for d in ds:
                b=level(d,depth)
                if a and b and a!=b and not b.startswith(a+'::') and not a.startswith(b+'::'):
                    g.setdefault(a,set()).add(b)
        for c in sccs(g): print(src, depth, c)
