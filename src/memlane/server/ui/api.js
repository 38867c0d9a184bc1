// The server's API, as memlane.Client calls it: POST memlane/v1/<method> with a JSON body, the
// key in an Authorization header. The key lives in sessionStorage (this tab, until it closes).

const KEY = "memlane.key";

export class ApiError extends Error {
  constructor(status, detail, type) {
    super(detail);
    this.status = status;
    this.type = type;
  }
}

export function savedKey() {
  return sessionStorage.getItem(KEY);
}

export function saveKey(key) {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
}

/** Call one Memory method; its answer, or an ApiError with the server's message. */
export async function call(method, body = {}) {
  const headers = { "Content-Type": "application/json" };
  const key = savedKey();
  if (key) headers.Authorization = "Bearer " + key;
  let response;
  try {
    response = await fetch("memlane/v1/" + method, { method: "POST", headers, body: JSON.stringify(body) });
  } catch (error) {
    throw new ApiError(0, "the server cannot be reached: " + error.message, "RemoteError");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (!response.ok) {
    let detail = data && data.detail !== undefined ? data.detail : "HTTP " + response.status;
    if (typeof detail !== "string") detail = JSON.stringify(detail);
    throw new ApiError(response.status, detail, data && data.type);
  }
  return data;
}
