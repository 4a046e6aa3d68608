# The whole-process benchmark's work in plain Python (stdlib only), for comparison with
# kraken_cycle.lua: fetch 720 closed 1-minute candles and place one signed market AddOrder on
# the loopback fake, over one kept-alive connection.
import base64
import hashlib
import hmac
import http.client
import json
import os
import sys
import time
import urllib.parse

base = urllib.parse.urlsplit(os.environ["KRAKEN_API_URL"])
conn = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
conn.request("GET", "/0/public/OHLC?" + urllib.parse.urlencode({"interval": 1, "pair": "XBTUSD"}),
             headers={"User-Agent": "bench/1"})
env = json.loads(conn.getresponse().read())
if env["error"]:
    sys.exit("OHLC: %s" % env["error"])
result = env["result"]
rows = result[[k for k in result if k != "last"][0]][:-1]  # the last row is the open candle
candles = [{"t": int(r[0]), "o": float(r[1]), "h": float(r[2]), "l": float(r[3]), "c": float(r[4]),
            "vwap": float(r[5]), "v": float(r[6]), "n": int(r[7])} for r in rows]
if len(candles) != 720:
    sys.exit("want 720 closed candles, got %d" % len(candles))

path = "/0/private/AddOrder"
nonce = str(int(time.time() * 1000))
body = urllib.parse.urlencode({"nonce": nonce, "ordertype": "market", "pair": "XBTUSD", "type": "buy",
                               "volume": "0.0001"})
digest = hashlib.sha256((nonce + body).encode()).digest()
sign = base64.b64encode(hmac.new(base64.b64decode(os.environ["KRAKEN_SECRET"]), path.encode() + digest,
                                 hashlib.sha512).digest()).decode()
conn.request("POST", path, body, headers={"API-Key": os.environ["KRAKEN_API_KEY"], "API-Sign": sign,
                                          "Content-Type": "application/x-www-form-urlencoded",
                                          "User-Agent": "bench/1"})
env = json.loads(conn.getresponse().read())
if env["error"] or not env["result"].get("txid"):
    sys.exit("AddOrder: %s" % env["error"])
