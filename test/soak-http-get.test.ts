/**
 * The soak's GET over kept-alive connections: a connection the server resets before answering a
 * request sent on it again (the keep-alive race: the server closed it for idleness as the request
 * left) is retried once on a new connection, as browsers do; a reset of a new connection is an
 * error the soak counts. Against a real TCP server that answers or resets as told.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpGet } from '../bench/soak/http-get.ts';

const OK =
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n{}';

/** A server whose n-th request on each connection (counted from 1) gets `plan(connection, n)`. */
function server(plan: (connection: number, request: number) => 'answer' | 'reset'): Promise<{
  url: string;
  connections: () => number;
  srv: Server;
}> {
  let connections = 0;
  const srv = createServer((socket: Socket) => {
    sockets.add(socket);
    const connection = ++connections;
    let requests = 0;
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        if (plan(connection, ++requests) === 'reset') return socket.resetAndDestroy();
        socket.write(OK);
      }
    });
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      resolve({
        url: `http://127.0.0.1:${port}/fhir/Patient/x/$everything`,
        connections: () => connections,
        srv,
      });
    }),
  );
}

const sockets = new Set<Socket>();
let open: Server | undefined;
afterEach(async () => {
  // the harness's agent keeps its connections: close them from this side
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await new Promise((r) => (open ? open.close(r) : r(undefined)));
  open = undefined;
});

describe('soak GET over kept-alive connections', () => {
  it('sends a request again on a new connection when a reused one is reset before answering', async () => {
    // every connection answers its first request and resets its second
    const s = await server((_c, n) => (n === 1 ? 'answer' : 'reset'));
    open = s.srv;
    const signal = AbortSignal.timeout(5000);
    expect(await httpGet(s.url, 't', signal)).toEqual({ ok: true });
    // the second GET goes out on the kept-alive connection, is reset, and is answered on a new one
    expect(await httpGet(s.url, 't', signal)).toEqual({ ok: true });
    expect(s.connections()).toBe(2);
  });

  it('counts a reset of a new connection as an error, without sending again', async () => {
    const s = await server(() => 'reset');
    open = s.srv;
    await expect(httpGet(s.url, 't', AbortSignal.timeout(5000))).rejects.toMatchObject({
      code: 'ECONNRESET',
    });
    expect(s.connections()).toBe(1);
  });
});
