"""Baseline for `herald-bench aws`: a plain loop of botocore SendTextMessage calls
against a local Python HTTP server answering like the service.

    python3 Benchmarks/baseline/botocore_send_text.py 5000

Prints one JSON line. Uses fake credentials and 127.0.0.1 only.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"MessageId":"baseline"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    session = botocore.session.get_session()
    client = session.create_client(
        "pinpoint-sms-voice-v2", region_name="eu-west-1",
        endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="not-a-real-secret")
    start = time.perf_counter()
    for index in range(count):
        client.send_text_message(DestinationPhoneNumber=f"+1202555{100 + index % 100:04d}",
                                 OriginationIdentity="+15550100000", MessageBody=f"Hi Person {index}")
    seconds = time.perf_counter() - start
    print(json.dumps({"figure": "botocore_loop_msgs_per_s", "messages": count, "value": int(count / seconds),
                      "seconds": seconds}))
    server.shutdown()


if __name__ == "__main__":
    main()
