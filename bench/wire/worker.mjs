// The wire-rate probe for `npm run bench:webhooks` (config: wrangler.toml beside it): a
// Worker with nothing in it but fetch(). GET /?url=<receiver hook URL>&n=<POSTs>&concurrency=<in flight> makes n POSTs
// of a ~1 KB JSON body (the size of a task.created delivery) to `url`, `concurrency` at a
// time, and answers {"n", "ok", "failed", "elapsedMs", "statuses", "errors"}. Run under
// `wrangler dev` beside the Verk Worker, it shows how many POSTs per second workerd can make
// to the same receiver when no Verk code runs in between. Only 127.0.0.1 is allowed.

const FILLER = "x".repeat(700);

function bodyFor(i) {
  return JSON.stringify({
    id: `evt_wire_${i}`,
    event: "task.created",
    timestamp: new Date().toISOString(),
    webhookId: "wh_wire",
    deliveryId: `del_wire_${i}`,
    data: { id: `task_wire_${i}`, title: "Wire rate probe", description: FILLER },
  });
}

export default {
  async fetch(request) {
    const { pathname, searchParams: params } = new URL(request.url);
    if (pathname === "/health") return new Response("ok");
    const target = params.get("url") ?? "";
    const n = Number(params.get("n") ?? 0);
    const concurrency = Number(params.get("concurrency") ?? 1);
    if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(target))
      return new Response("url must be http://127.0.0.1:<port>/…", { status: 400 });
    if (!(n >= 1 && concurrency >= 1)) return new Response("n and concurrency must be ≥ 1", { status: 400 });

    const statuses = {};
    const errors = [];
    let next = 0;
    let ok = 0;
    // Date.now() advances across I/O in workerd, which is all this measures.
    const started = Date.now();
    async function lane() {
      while (next < n) {
        const i = next++;
        try {
          const res = await fetch(target, {
            method: "POST",
            headers: { "Content-Type": "application/json", "X-Verk-Delivery": `del_wire_${i}` },
            body: bodyFor(i),
          });
          await res.body?.cancel();
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
          if (res.ok) ok += 1;
        } catch (error) {
          if (errors.length < 5) errors.push(String(error));
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
    const elapsedMs = Date.now() - started;
    return Response.json({ n, ok, failed: n - ok, elapsedMs, statuses, errors });
  },
};
