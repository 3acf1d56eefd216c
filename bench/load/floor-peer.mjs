// The platform's floor on node for run.sh's floor scenario: a plain node http server that reads the render request's
// body and answers with a fixed reply of the same size as the Kestrel floor's (bench/PromptVault.Floor).
//   node floor-peer.mjs PORT
import http from 'node:http';

const length = 950;
const reply = JSON.stringify({ content: 'x'.repeat(length - 16) });
const port = Number(process.argv[2]);
http.createServer((request, response) => {
  request.on('data', () => {});
  request.on('end', () => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
    response.end(reply);
  });
}).listen(port, '127.0.0.1', () => console.log(`floor peer listening on ${port}`));
