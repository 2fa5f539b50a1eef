/**
 * fetch with a timeout that keeps the event loop alive. AbortSignal.timeout() uses an unref'd timer and undici's
 * sockets are unref'd too, so a request stuck on docker-proxy (accepts, never answers) would let the process exit
 * with "unsettled top-level await" instead of timing out.
 */
export async function httpText(url: string, init?: RequestInit, timeoutMs = 5000): Promise<{ status: number; text: string }> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`${init?.method ?? 'GET'} ${url}: no answer within ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    const res = await fetch(url, { ...init, signal: controller.signal });
    return { status: res.status, text: await res.text() };
  } finally {
    clearTimeout(timer);
  }
}
