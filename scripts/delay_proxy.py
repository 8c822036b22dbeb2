"""A TCP delay line for scripts/fault-packet-loss: python3 delay_proxy.py LISTEN_PORT TARGET_PORT DELAY_MS

This kernel has no netem qdisc (RELIABILITY.md), so the delay between agentstate and Redis is added
here instead: every byte that enters the proxy, in either direction, leaves it DELAY_MS later, in
order. It listens on 127.0.0.1 only and connects to 127.0.0.1:TARGET_PORT only. It runs until it is
stopped (by PID, by the script that started it).
"""
import asyncio
import sys

LISTEN_PORT = int(sys.argv[1])
TARGET_PORT = int(sys.argv[2])
DELAY = int(sys.argv[3]) / 1000.0
MAX_CONNECTIONS = 256  # bounded: agentstate opens a handful of Redis connections


async def delay_line(reader, writer):
    """Copies reader to writer, each chunk DELAY seconds after it arrived, preserving order."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def receive():
        while True:
            data = await reader.read(65536)
            await queue.put((loop.time() + DELAY, data))
            if not data:
                return

    async def send():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(receive(), send())
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


open_connections = 0


async def handle(client_reader, client_writer):
    global open_connections
    if open_connections >= MAX_CONNECTIONS:
        client_writer.close()
        return
    open_connections += 1
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", TARGET_PORT)
    except OSError:
        client_writer.close()
        open_connections -= 1
        return
    try:
        await asyncio.gather(delay_line(client_reader, server_writer), delay_line(server_reader, client_writer))
    finally:
        open_connections -= 1


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN_PORT)
    async with server:
        await server.serve_forever()


asyncio.run(main())
