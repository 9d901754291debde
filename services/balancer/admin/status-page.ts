import type { AdminHandler } from '../../shared/index.js';

/**
 * GET /admin/status: a small live page over /admin/upstreams and /admin/traffic
 * (rate, errors and latency over the last minutes) for people at a
 * terminal's browser. No external assets (pods often have no egress), no
 * user input rendered as HTML (endpoint names go through textContent).
 */
const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>flotilla balancer</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse}td,th{padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:left}
#bars{display:flex;align-items:flex-end;gap:2px;height:60px;margin:.5rem 0 1.5rem}#bars div{width:8px;background:#4a78b5}#bars div.err{background:#b00020}
.healthy{color:#176f2c}.slow_start{color:#8a6d00}.ejected,.unhealthy{color:#b00020}.terminating,.not_ready{color:#666}
</style></head><body>
<h1>flotilla balancer</h1><p id="summary">loading…</p>
<h2>last 5 minutes</h2><p id="traffic">loading…</p><div id="bars" title="requests per second, 10 s intervals (red: some 5xx)"></div>
<h2>upstreams</h2>
<table><thead><tr><th>endpoint</th><th>state</th><th>in flight</th><th>EWMA ms</th><th>weight</th><th>ejections</th><th>last error</th></tr></thead><tbody id="rows"></tbody></table>
<script>
async function tick(){
  try{
    const t=await (await fetch('/admin/upstreams',{cache:'no-store'})).json();
    document.getElementById('summary').textContent='picker '+t.picker+(t.workers?' · '+t.workers+' worker processes':'')+' · in flight '+t.inFlight+' · tunnels '+t.tunnels+(t.panic?' · PANIC':'')+(t.draining?' · DRAINING':'');
    const body=document.getElementById('rows');body.replaceChildren();
    for(const u of t.upstreams){
      const tr=document.createElement('tr');
      for(const v of [u.endpoint,u.state,u.inFlight,u.ewmaMs??'-',u.weight,u.ejections,u.lastError??'']){const td=document.createElement('td');td.textContent=String(v);tr.appendChild(td);}
      tr.children[1].className=u.state;body.appendChild(tr);
    }
  }catch(e){document.getElementById('summary').textContent='admin port unreachable';}
  try{
    const r=await (await fetch('/admin/traffic',{cache:'no-store'})).json();
    const l=r.last,ms=(v)=>v===null?'-':'≤ '+v+' ms';
    document.getElementById('traffic').textContent=l?('last 10 s: '+l.ratePerSecond.toFixed(1)+' req/s · errors '+(100*l.errorRatio).toFixed(1)+' % · p50 '+ms(l.p50Ms)+' · p99 '+ms(l.p99Ms)):'no traffic yet';
    const bars=document.getElementById('bars');bars.replaceChildren();
    const max=Math.max(1,...r.points.map((p)=>p.ratePerSecond));
    for(const p of r.points){const d=document.createElement('div');d.style.height=(2+58*p.ratePerSecond/max)+'px';if(p.errors>0)d.className='err';d.title=p.ratePerSecond.toFixed(1)+' req/s, '+p.errors+' errors';bars.appendChild(d);}
  }catch(e){}
}
tick();setInterval(tick,1000);
</script></body></html>`;

export function statusPageRoute(): AdminHandler {
  return (_req, res) => {
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(PAGE),
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
    });
    res.end(PAGE);
  };
}
