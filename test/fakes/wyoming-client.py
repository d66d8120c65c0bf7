"""A client of the box's audio stream built from the Wyoming reference package
(wyoming 1.6.0 by the protocol's authors, on PYTHONPATH), not from our parser.

  wyoming-client.py read URI SECONDS OUT.raw [--token T] [--rate R --format F] [--pause-at S --pause-for S]
      reads events for SECONDS, writes the PCM of every audio-chunk to OUT.raw
      and prints a JSON summary (audio-start, chunk timestamps and sizes, audio-stop);
      with --pause-at, stops reading for --pause-for seconds after S seconds (a slow client)
  wyoming-client.py describe URI
      sends describe, prints the info's mic program (name, mic_format)
  wyoming-client.py stuck URI SECONDS
      connects and never reads (a plain socket with a small receive buffer)
"""
import asyncio
import json
import socket
import sys
import time

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncClient
from wyoming.event import Event
from wyoming.info import Describe, Info


async def read(uri, seconds, out_path, token, rate, fmt, pause_at=None, pause_for=0.0):
    summary = {"starts": [], "chunks": [], "stops": [], "closed": False}
    client = AsyncClient.from_uri(uri)
    await client.connect()
    if token is not None:
        await client.write_event(Event(type="hushbox-auth", data={"token": token}))
    if rate is not None:
        await client.write_event(Event(type="hushbox-format", data={"rate": rate, "format": fmt}))
    started = time.monotonic()
    deadline = started + seconds
    with open(out_path, "wb") as out:
        while True:
            if pause_at is not None and time.monotonic() - started >= pause_at:
                # Blocks the event loop: nothing is read from the socket meanwhile.
                time.sleep(pause_for)
                pause_at = None
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                event = await asyncio.wait_for(client.read_event(), timeout=left)
            except asyncio.TimeoutError:
                break
            if event is None:
                summary["closed"] = True
                break
            if AudioStart.is_type(event.type):
                s = AudioStart.from_event(event)
                summary["starts"].append({"rate": s.rate, "width": s.width, "channels": s.channels,
                                          "timestamp": s.timestamp, "format": event.data.get("format")})
            elif AudioChunk.is_type(event.type):
                c = AudioChunk.from_event(event)
                summary["chunks"].append([c.timestamp, c.samples, c.rate, c.width, c.channels])
                out.write(c.audio)
            elif AudioStop.is_type(event.type):
                summary["stops"].append(AudioStop.from_event(event).timestamp)
    await client.disconnect()
    print(json.dumps(summary))


async def describe(uri):
    client = AsyncClient.from_uri(uri)
    await client.connect()
    await client.write_event(Describe().event())
    while True:
        event = await asyncio.wait_for(client.read_event(), timeout=5)
        if event is None:
            raise SystemExit("closed before info")
        if Info.is_type(event.type):
            info = Info.from_event(event)
            mic = info.mic[0]
            print(json.dumps({"name": mic.name, "installed": mic.installed,
                              "mic_format": {"rate": mic.mic_format.rate, "width": mic.mic_format.width,
                                             "channels": mic.mic_format.channels}}))
            break
    await client.disconnect()


def stuck(uri, seconds):
    if uri.startswith("unix://"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(uri[len("unix://"):])
    else:
        host, port = uri[len("tcp://"):].rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect((host, int(port)))
    print(json.dumps({"connected": True}), flush=True)
    time.sleep(seconds)
    # Whether the box hung up on us: a read of what is left ends in EOF or a reset.
    s.setblocking(False)
    closed = False
    try:
        while True:
            d = s.recv(65536)
            if not d:
                closed = True
                break
    except BlockingIOError:
        pass
    except ConnectionResetError:
        closed = True
    print(json.dumps({"closed": closed}), flush=True)


def main(argv):
    mode = argv[1]
    if mode == "read":
        opts = argv[5:]
        token = rate = fmt = pause_at = None
        pause_for = 0.0
        while opts:
            k, v = opts[0], opts[1]
            opts = opts[2:]
            if k == "--token":
                token = v
            elif k == "--rate":
                rate = int(v)
            elif k == "--format":
                fmt = v
            elif k == "--pause-at":
                pause_at = float(v)
            elif k == "--pause-for":
                pause_for = float(v)
        asyncio.run(read(argv[2], float(argv[3]), argv[4], token, rate, fmt, pause_at, pause_for))
    elif mode == "describe":
        asyncio.run(describe(argv[2]))
    elif mode == "stuck":
        stuck(argv[2], float(argv[3]))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv)
