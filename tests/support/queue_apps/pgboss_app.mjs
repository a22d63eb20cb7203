// A pg-boss application for the queue_purge tests, run by Node.js 22 with pg-boss from npm.
//
// Not part of the collection: tests/support/queue_libraries.py installs Node.js 22 and pg-boss
// (npm, current release) in a directory of their own and runs this file there. The database is
// the libpq environment (PGHOST, a socket directory; PGPORT; PGUSER; PGDATABASE). Every command
// starts pg-boss without its supervisor, so nothing but queue_purge touches a stuck job until
// a command below asks the library itself.
//
//   node pgboss_app.mjs schema                  create pg-boss's schema and the test queues
//   node pgboss_app.mjs send QUEUE COUNT        send COUNT jobs; their ids
//   node pgboss_app.mjs worker QUEUE BATCH      the library's worker: takes BATCH jobs at a time and
//                                               works on each for SLOW_SECONDS (runs until killed)
//   node pgboss_app.mjs burst QUEUE             fetch and complete every job that can run now; how many
//   node pgboss_app.mjs decisions QUEUE ID...   what the library's fail() makes of each job as it is
//                                               now (run in a transaction, rolled back)
//   node pgboss_app.mjs jobs QUEUE              every job of QUEUE as the library reads it
//   node pgboss_app.mjs old-jobs QUEUE          what the library's own retention sweep would delete
//   node pgboss_app.mjs expire QUEUE            the library's own expiry sweep, for real; how many it failed
//   node pgboss_app.mjs version

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import pg from 'pg'
import { PgBoss } from 'pg-boss'
import * as plans from 'pg-boss/dist/plans.js'

const SCHEMA = 'pgboss'
// Two retries: a job's third failed run fails it for good.
const QUEUES = {
  work: { retryLimit: 2, expireInSeconds: 60 },
  // Runs for up to an hour: a worker may hold its job that long and still be alive.
  live: { retryLimit: 2, expireInSeconds: 3600 },
  // A partition of its own: queue_purge vacuums the partitions it deleted from, not the table.
  done: { retryLimit: 2, partition: true },
  dead: {},
  // Its failures go to the dead-letter queue "dead", a copy only pg-boss makes.
  routed: { retryLimit: 0, expireInSeconds: 60, deadLetter: 'dead' }
}

const connection = {
  host: process.env.PGHOST,
  port: Number(process.env.PGPORT),
  user: process.env.PGUSER,
  database: process.env.PGDATABASE
}

function boss () {
  return new PgBoss({ ...connection, schema: SCHEMA, supervise: false, schedule: false, max: 4 })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// A transaction of our own that pg-boss runs its statements in: its `db` option.
async function inRolledBackTransaction (work) {
  const client = new pg.Client(connection)
  await client.connect()
  try {
    await client.query('BEGIN')
    const db = { executeSql: (text, values) => client.query(text, values) }
    return await work(client, db)
  } finally {
    await client.query('ROLLBACK')
    await client.end()
  }
}

async function decisions (instance, queue, ids) {
  return inRolledBackTransaction(async (client, db) => {
    await instance.fail(queue, ids, { message: 'worker killed' }, { db })
    const { rows } = await client.query(
      `SELECT id, state::text, retry_count, completed_on IS NOT NULL AS completed
       FROM ${SCHEMA}.job WHERE name = $1 AND id = ANY($2::uuid[])`,
      [queue, ids]
    )
    const copies = await client.query(
      `SELECT source_id FROM ${SCHEMA}.job WHERE source_name = $1 AND source_id = ANY($2::uuid[])`,
      [queue, ids]
    )
    const dead = new Set(copies.rows.map((r) => r.source_id))
    return Object.fromEntries(rows.map((r) => [r.id, {
      state: r.state, retry_count: r.retry_count, completed: r.completed, dead_letter_copy: dead.has(r.id)
    }]))
  })
}

async function oldJobs (queue) {
  // The library's own sweep statement (one batch, as large as the queue), run in our transaction and
  // rolled back: the rows it would delete now. It comes wrapped in BEGIN ... COMMIT of its own,
  // which would commit ours, so the wrapper is left out.
  return inRolledBackTransaction(async (client) => {
    const { rows } = await client.query(`SELECT table_name FROM ${SCHEMA}.queue WHERE name = $1`, [queue])
    const sweep = plans.deletion(SCHEMA, rows[0].table_name, queue, { batchSize: 1000000, noAdvisoryLocks: true })
      .replace(/^\s*BEGIN;/, '').replace(/COMMIT;\s*$/, '')
    const results = [].concat(await client.query(sweep))
    return results[results.length - 1].rows[0].deleted
  })
}

async function main ([command, ...args]) {
  if (command === 'version') {
    const require = createRequire(import.meta.url)
    const manifest = require.resolve('pg-boss/package.json')
    return { 'pg-boss': JSON.parse(readFileSync(manifest)).version, node: process.versions.node }
  }
  const instance = boss()
  instance.on('error', (error) => console.error(error))
  await instance.start()
  try {
    if (command === 'schema') {
      for (const [name, options] of Object.entries(QUEUES)) {
        if (!await instance.getQueue(name)) await instance.createQueue(name, options)
      }
      return Object.keys(QUEUES)
    }
    if (command === 'send') {
      const [queue, count] = args
      return instance.insert(queue, Array.from({ length: Number(count) }, (_, n) => ({ data: { n } })), { returnId: true })
    }
    if (command === 'worker') {
      const [queue, batch] = args
      const slow = Number(process.env.SLOW_SECONDS || '3600') * 1000
      await instance.work(queue, { batchSize: Number(batch), pollingIntervalSeconds: 0.5 }, async (jobs) => {
        console.log(JSON.stringify({ took: jobs.map((job) => job.id) }))
        await sleep(slow)
      })
      await new Promise(() => {}) // until killed
    }
    if (command === 'burst') {
      let done = 0
      for (;;) {
        const jobs = await instance.fetch(args[0], { batchSize: 100 })
        if (!jobs.length) return done
        await instance.complete(args[0], jobs.map((job) => job.id))
        done += jobs.length
      }
    }
    if (command === 'decisions') return decisions(instance, args[0], args.slice(1))
    if (command === 'jobs') {
      const jobs = await instance.findJobs(args[0], { limit: 100000 })
      return jobs.map((job) => ({
        id: job.id, state: job.state, retryCount: job.retryCount, completedOn: job.completedOn, startedOn: job.startedOn
      }))
    }
    if (command === 'old-jobs') return oldJobs(args[0])
    if (command === 'expire') {
      await instance.supervise(args[0])
      return 'supervised'
    }
    throw new Error(`unknown command ${command}`)
  } finally {
    await instance.stop({ graceful: false, close: true })
  }
}

main(process.argv.slice(2)).then(
  (result) => { console.log(JSON.stringify(result)); process.exit(0) },
  (error) => { console.error(error); process.exit(1) }
)
