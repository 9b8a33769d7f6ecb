// A pool client checked out for a transaction. node-postgres emits 'error' on a checked-out client
// whose server goes away between queries, and an 'error' event nobody listens to kills the process;
// here the error is kept and the next query fails instead, and such a client is destroyed on
// release rather than returned to the pool.
'use strict';

async function checkout(pool) {
  const client = await pool.connect();
  let lost = null;
  const onError = (err) => { lost = err; };
  client.on('error', onError);
  return {
    query: (text, params) => client.query(text, params),
    release(failed = false) {
      client.removeListener('error', onError);
      client.release(failed || lost ? true : undefined);
    },
  };
}

module.exports = { checkout };
