// The demo frontend: a plain Node.js server standing in for next-server.
// It reads its port from PORT (the unit sets it) and names the release it
// runs from, so a deploy can be watched switching releases.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

const port = Number(process.env.PORT || 3000);
const release = path.basename(fs.realpathSync(path.join(__dirname, '..')));
const broken = fs.existsSync(path.join(__dirname, '..', 'BREAK_FRONTEND_HEALTH'));

const server = http.createServer((req, res) => {
  if (req.url === '/health') {
    res.writeHead(broken ? 500 : 200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ status: broken ? 'broken on purpose' : 'ok', release }));
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><title>TMS</title><h1>TMS</h1><p>release ${release}, port ${port}</p>\n`);
});

// On SIGTERM stop accepting, finish what is in flight, then exit: the old
// instance of a blue/green switch drains this way.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
server.listen(port, '127.0.0.1', () => console.log(`tms-frontend ${release} listening on ${port}`));
