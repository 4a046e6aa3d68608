// Tiny assertions for the conformance checks: each throws an Error that says what was expected,
// so run.mjs can print one FAIL line per broken check.

export function eq(got, want, what) {
  if (got !== want) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

export function ok(value, what) {
  if (!value) throw new Error(`${what}: got ${JSON.stringify(value)}`);
}

// rejects(promise, ErrorClass, fields): the promise fails with an instance of ErrorClass whose
// fields (e.g. {status: 404, code: 'model_not_found'}) hold those values; returns the error.
export async function rejects(promise, ErrorClass, fields = {}) {
  let error;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  if (!error) throw new Error(`expected ${ErrorClass.name}, but the call succeeded`);
  if (!(error instanceof ErrorClass)) {
    throw new Error(`expected ${ErrorClass.name}, got ${error.constructor.name}: ${error.message}`);
  }
  for (const [key, want] of Object.entries(fields)) eq(error[key], want, `${ErrorClass.name}.${key}`);
  return error;
}

// The JSON body of a fake's control endpoint call.
export async function control(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                 body: JSON.stringify(body ?? {}) });
  if (!res.ok) throw new Error(`control ${url}: HTTP ${res.status}`);
  return res.json();
}

export function isDecision(text, what) {
  let d;
  try {
    d = JSON.parse(text);
  } catch (e) {
    throw new Error(`${what}: the answer is not JSON: ${JSON.stringify(text)}`);
  }
  ok(['buy', 'sell', 'hold'].includes(d.action) && typeof d.confidence === 'number', `${what}: a decision`);
  return d;
}
