// What a compat step gave, in a form both runtimes print the same way: the value, or the
// error's class, type and code.
export async function outcome(run) {
  try {
    const data = await run();
    return { ok: data === undefined ? null : data };
  } catch (err) {
    return { error: { name: err.name, type: err.type, code: err.code } };
  }
}
