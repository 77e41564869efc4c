#!/usr/bin/env python3
"""/metrics scrape storm: `serve` with 1,000 projects (against the fake provider), 8 threads
scraping /metrics for 10 s; prints body sizes, scrapes/s, p50/p99 and the server RSS before, at
peak and 3 s after. Usage: scripts/bench-metrics.py BALANCE_ALERT_BINARY FAKE_PROVIDERS_BINARY
(e.g. two builds, old and new commit, to compare). Figures go in docs/benchmarks.md."""
import json, os, subprocess, sys, time, urllib.request, threading, tempfile, statistics, socket
binary, fake = sys.argv[1], sys.argv[2]
def free():
    s=socket.socket(); s.bind(("127.0.0.1",0)); p=s.getsockname()[1]; s.close(); return p
work=tempfile.mkdtemp(); fp, ap, mp = free(), free(), free()
fk=subprocess.Popen([fake,"--listen",f"127.0.0.1:{fp}"],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
time.sleep(1)
providers=["openrouter","deepseek","moonshot","siliconflow"]
json.dump({"settings":{"max_concurrent_checks":1000},"projects":[{"name":f"p{i}","provider":providers[i%4],"api_key":f"bal:{100+i}","threshold":10,"base_url":f"http://127.0.0.1:{fp}"} for i in range(1000)]},open(f"{work}/config.json","w"))
env=dict(DATABASE_PATH=f"{work}/state.db",RATE_LIMIT_PER_MINUTE="0")
p=subprocess.Popen([binary,"serve","--config",f"{work}/config.json","--listen",f"127.0.0.1:{ap}","--metrics-listen",f"127.0.0.1:{mp}"],env=env,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
def rss(): return int([l for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS")][0].split()[1])//1024
while True:
    try:
        if json.load(urllib.request.urlopen(f"http://127.0.0.1:{ap}/api/credits",timeout=5))["summary"]["success"]==1000: break
    except Exception: pass
    time.sleep(0.2)
time.sleep(1)
url=f"http://127.0.0.1:{mp}/metrics"
size=len(urllib.request.urlopen(url).read())
gz=len(urllib.request.urlopen(urllib.request.Request(url,headers={"Accept-Encoding":"gzip"})).read())
before=rss(); lat=[]; peak=[before]; stop=time.time()+10
def worker():
    while time.time()<stop:
        t=time.time(); urllib.request.urlopen(url,timeout=30).read(); lat.append(time.time()-t)
def sampler():
    while time.time()<stop: peak.append(rss()); time.sleep(0.1)
ts=[threading.Thread(target=worker) for _ in range(8)]+[threading.Thread(target=sampler)]
[t.start() for t in ts]; [t.join() for t in ts]
time.sleep(3); after=rss()
lat.sort()
print(f"{os.path.basename(binary)}: body {size//1024} KB (gzip {gz//1024} KB), {len(lat)/10:.0f} scrapes/s, p50 {statistics.median(lat)*1000:.1f} ms, p99 {lat[int(len(lat)*0.99)]*1000:.1f} ms, RSS {before} -> peak {max(peak)} -> {after} MB")
p.terminate(); fk.terminate(); p.wait(); fk.wait()
