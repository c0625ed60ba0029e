#!/usr/bin/env python3
"""Cross-language contract test.

Generates a Python client from proto/leadroute/v1/leadroute.proto alone (with
Debian's grpc_tools), starts the real `leadroute serve` on an ephemeral port
over TLS with --auth (a CA and certificate made now by the openssl command
line, a token by `leadroute auth add`), routes leads through it as a client
with the CA and a bearer token and checks the decisions, and lists the
server's services through the standard reflection protocol. Exits non-zero
on failure.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import unittest

ARGS = None


HERE = os.path.dirname(os.path.abspath(__file__))


def protoc(proto_dir, proto, out_dir):
    from grpc_tools import protoc as grpc_protoc

    rc = grpc_protoc.main([
        "protoc",
        f"--proto_path={proto_dir}",
        "--proto_path=/usr/include",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        os.path.join(proto_dir, proto),
    ])
    if rc != 0:
        raise RuntimeError(f"protoc failed with {rc} on {proto}")


def generate_clients(proto_dir, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    protoc(proto_dir, "leadroute/v1/leadroute.proto", out_dir)
    protoc(os.path.join(HERE, "proto"),
           "reflection_v1alpha.proto", out_dir)
    sys.path.insert(0, out_dir)


def make_credentials(binary, folder):
    """A CA, a server certificate for 127.0.0.1 signed by it, and an --auth
    file with one principal; returns (ca, cert, key, auth file, token)."""
    def sh(*args):
        subprocess.run(args, check=True, capture_output=True)

    ca, ca_key = (os.path.join(folder, n) for n in ("ca.crt", "ca.key"))
    cert, key, csr, ext = (os.path.join(folder, n) for n in
                           ("server.crt", "server.key", "server.csr",
                            "server.ext"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes"]
    sh("openssl", "req", "-x509", *ec, "-days", "2", "-subj", "/CN=test-ca",
       "-keyout", ca_key, "-out", ca)
    sh("openssl", "req", *ec, "-subj", "/CN=localhost", "-keyout", key,
       "-out", csr)
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    sh("openssl", "x509", "-req", "-days", "2", "-in", csr, "-CA", ca,
       "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-extfile", ext)
    auth = os.path.join(folder, "auth.txt")
    added = subprocess.run([binary, "auth", "add", "contract", "--roles",
                            "route,read", "--file", auth],
                           check=True, capture_output=True, text=True)
    return ca, cert, key, auth, added.stdout.strip()


def start_server(binary, *flags):
    proc = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--grace", "5", *flags],
        stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        m = re.search(r"msg=listening addr=(\S+)", line)
        if m:
            return proc, m.group(1)
    raise RuntimeError("server exited before listening")


class ContractTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import grpc
        from leadroute.v1 import leadroute_pb2, leadroute_pb2_grpc

        cls.pb = leadroute_pb2
        cls.folder = tempfile.TemporaryDirectory()
        ca, cert, key, auth, cls.token = make_credentials(
            ARGS.leadroute, cls.folder.name)
        cls.proc, cls.address = start_server(
            ARGS.leadroute, "--tls-cert", cert, "--tls-key", key, "--auth",
            auth, "--reflection", "on")
        with open(ca, "rb") as f:
            cls.tls = grpc.ssl_channel_credentials(root_certificates=f.read())
        cls.channel = grpc.secure_channel(
            cls.address, grpc.composite_channel_credentials(
                cls.tls, grpc.access_token_call_credentials(cls.token)))
        grpc.channel_ready_future(cls.channel).result(timeout=30)
        cls.stub = leadroute_pb2_grpc.LeadRouterStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.proc.send_signal(signal.SIGTERM)
        cls.proc.wait(timeout=30)
        cls.folder.cleanup()

    def test_tls_and_a_token_are_required(self):
        import grpc
        from leadroute.v1 import leadroute_pb2_grpc

        request = self.pb.RouteRequest(lead=self.lead("py-0", "ebook"))
        with grpc.insecure_channel(self.address) as plain:
            with self.assertRaises(grpc.RpcError) as caught:
                leadroute_pb2_grpc.LeadRouterStub(plain).Route(request,
                                                               timeout=10)
            self.assertEqual(caught.exception.code(),
                             grpc.StatusCode.UNAVAILABLE)
        with grpc.secure_channel(self.address, self.tls) as no_token:
            stub = leadroute_pb2_grpc.LeadRouterStub(no_token)
            with self.assertRaises(grpc.RpcError) as caught:
                stub.Route(request, timeout=10)
            self.assertEqual(caught.exception.code(),
                             grpc.StatusCode.UNAUTHENTICATED)
            # The same token as plain metadata, as any client can send it.
            d = stub.Route(request, timeout=10, metadata=[
                ("authorization", "Bearer " + self.token)]).decision
            self.assertEqual(d.lead_id, "py-0")
        admin = leadroute_pb2_grpc.RulesAdminStub(self.channel)
        with self.assertRaises(grpc.RpcError) as caught:
            admin.Rollback(self.pb.RollbackRequest(), timeout=10)
        self.assertEqual(caught.exception.code(),
                         grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn('needs role "rules"', caught.exception.details())

    def lead(self, lead_id, source):
        lead = self.pb.Lead(id=lead_id)
        lead.attributes["source"].string_value = source
        lead.attributes["country"].string_value = "US"
        lead.attributes["products"].list_value.values.extend(["cpq"])
        return lead

    def test_route_decides_a_demo_request(self):
        request = self.pb.RouteRequest(lead=self.lead("py-1", "demo_request"))
        request.options.received_at.seconds = 1700000000
        d = self.stub.Route(request, timeout=10).decision
        self.assertEqual(d.lead_id, "py-1")
        self.assertEqual(d.owner, "inbound")
        self.assertEqual(d.owner_kind, self.pb.OWNER_KIND_QUEUE)
        self.assertEqual(d.priority.label, "high")
        self.assertEqual(d.sla.seconds, 3600)
        self.assertEqual(d.respond_by.seconds, 1700000000 + 3600)
        self.assertEqual(d.channel, "phone")
        self.assertEqual([r.stage for r in d.decided_by],
                         ["assign", "priority", "sla", "channel"])

    def test_route_rejects_an_empty_id(self):
        import grpc

        with self.assertRaises(grpc.RpcError) as caught:
            self.stub.Route(self.pb.RouteRequest(lead=self.lead("", "x")),
                            timeout=10)
        self.assertEqual(caught.exception.code(),
                         grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("id", caught.exception.details())

    def test_batch_keeps_order_and_isolates_a_bad_lead(self):
        bad = self.pb.Lead(id="py-bad")
        bad.attributes["score"].bool_value = True
        request = self.pb.RouteBatchRequest(
            leads=[self.lead("py-a", "ebook"), bad,
                   self.lead("py-c", "demo_request")])
        results = self.stub.RouteBatch(request, timeout=10).results
        self.assertEqual(len(results), 3)
        self.assertEqual(results[0].decision.lead_id, "py-a")
        self.assertEqual(results[0].decision.priority.label, "normal")
        self.assertEqual(results[1].WhichOneof("result"), "error")
        self.assertEqual(results[1].error.field, "attributes.score")
        self.assertEqual(results[1].error.lead_id, "py-bad")
        self.assertEqual(results[2].decision.channel, "phone")

    def test_json_mapping_matches_the_documented_shape(self):
        from google.protobuf import json_format

        lead = json_format.Parse(
            '{"id": "j-1", "attributes": {"source": {"stringValue": '
            '"demo_request"}, "employees": {"intValue": "250"}}}',
            self.pb.Lead())
        d = self.stub.Route(self.pb.RouteRequest(lead=lead), timeout=10)
        self.assertEqual(d.decision.lead_id, "j-1")
        self.assertEqual(d.decision.priority.label, "high")

    def test_reflection_lists_the_lead_router(self):
        import reflection_v1alpha_pb2 as reflection_pb2
        import reflection_v1alpha_pb2_grpc as reflection_pb2_grpc

        stub = reflection_pb2_grpc.ServerReflectionStub(self.channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        responses = list(stub.ServerReflectionInfo(iter([request]), timeout=10))
        names = [s.name for s in
                 responses[0].list_services_response.service]
        self.assertIn("leadroute.v1.LeadRouter", names)
        self.assertIn("grpc.health.v1.Health", names)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--leadroute", required=True)
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    ARGS, rest = parser.parse_known_args()
    generate_clients(ARGS.proto_dir, ARGS.work_dir)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
