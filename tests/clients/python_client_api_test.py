"""The affinity_client package against a live server (make_test_model's model).

Run by python_client_test.sh with the interpreter of a venv the package was
installed into. Environment:
  AFFINITY_SERVER, AFFINITY_ADMIN   the server's --listen and --admin_listen
  AFFINITY_CERTS                    set: the server speaks TLS with client
                                    certificates of this directory's CA
                                    (ca.pem, client.pem, client.key) and
                                    wants AFFINITY_ADMIN_TOKEN on admin calls
  AFFINITY_FREE_ADDR                an address nothing listens on
The model: alice's top items are m2 then m3 (she has seen m1); the item most
similar to m4 is m5; the catalog titles mK "Movie K".
"""
import os
import unittest

from affinity_client import (AffinityError, CatalogItem, Client, ConfigError, Event, Filter,
                             Outcome, ServerUnreachable)
from affinity_client.cli import parse_recent

SERVER = os.environ["AFFINITY_SERVER"]
ADMIN = os.environ["AFFINITY_ADMIN"]
CERTS = os.environ.get("AFFINITY_CERTS", "")
TOKEN = os.environ.get("AFFINITY_ADMIN_TOKEN")
FREE = os.environ["AFFINITY_FREE_ADDR"]


def tls_files():
    if not CERTS:
        return {}
    return {"tls_ca": f"{CERTS}/ca.pem", "tls_cert": f"{CERTS}/client.pem",
            "tls_key": f"{CERTS}/client.key"}


def client(**extra):
    settings = dict(admin_addr=ADMIN, timeout=20, **tls_files())
    if TOKEN:
        settings["admin_token"] = TOKEN
    settings.update(extra)
    return Client(SERVER, **settings)


class ScoringTest(unittest.TestCase):
    def setUp(self):
        self.client = client()
        self.addCleanup(self.client.close)

    def test_recommend(self):
        answer = self.client.recommend("alice", 2)
        self.assertEqual(answer.item_ids(), ["m2", "m3"])
        self.assertEqual(answer.model_version, 1)
        self.assertEqual(answer.arm, "control")
        self.assertFalse(answer.fallback)
        self.assertTrue(answer.request_id)
        self.assertGreater(answer.items[0].score, answer.items[1].score)

    def test_recommend_recent_exclude_filters(self):
        # alice (1, 0.1, 0): m3 scores 0.8, m4 (0, 1, 0) 0.1, m5 0.09.
        self.assertEqual(self.client.recommend("alice", 2, exclude=["m2"]).item_ids(),
                         ["m3", "m4"])
        # bob has seen m4 and prefers m5; with m5 folded in as recent and
        # m1..m3 filtered out, what remains is m6.
        answer = self.client.recommend("bob", 1, recent={"m5": 1.0},
                                       filters=[Filter("item_id", none_of=["m1", "m2", "m3"])])
        self.assertEqual(answer.item_ids(), ["m6"])
        answer = self.client.recommend("bob", 1, recent=[("m5", 1.0)],
                                       filters=[{"attribute": "item_id", "anyOf": ["m2"]}],
                                       explain=True)
        self.assertEqual(answer.item_ids(), ["m2"])
        self.assertIn("model v1", answer.items[0].explanation)

    def test_unknown_user_gets_the_fallback(self):
        answer = self.client.recommend("nobody", 2)
        self.assertTrue(answer.fallback)
        self.assertTrue(all(item.from_fallback for item in answer.items))
        self.assertEqual(answer.item_ids(), ["m6", "m4"])

    def test_similar(self):
        self.assertEqual(self.client.similar("m4", 1).item_ids(), ["m5"])
        # Without m5, only m2 (0.9, 0.1, 0) shares a dimension with m4 (0, 1, 0).
        self.assertEqual(self.client.similar("m4", 1, exclude=["m5"]).item_ids(), ["m2"])

    def test_server_errors_carry_the_code(self):
        with self.assertRaises(AffinityError) as caught:
            self.client.similar("no-such-item", 1)
        self.assertEqual(caught.exception.code, "NOT_FOUND")
        self.assertIn("no-such-item", caught.exception.details)
        with self.assertRaises(AffinityError) as caught:
            self.client.recommend("alice", 0)
        self.assertEqual(caught.exception.code, "INVALID_ARGUMENT")
        self.assertIn("k", caught.exception.details)

    def test_report_outcome(self):
        answer = self.client.recommend("alice", 1)
        click = Outcome(item_id=answer.items[0].item_id, event=Event.CLICK,
                        request_id=answer.request_id, user_id="alice",
                        at_unix_micros=1_700_000_000_000_000)
        result = self.client.report_outcome(click)
        self.assertEqual((result.accepted, result.duplicates), (1, 0))
        result = self.client.report_outcome([click])
        self.assertEqual((result.accepted, result.duplicates), (0, 1))
        with self.assertRaises(ConfigError) as caught:
            self.client.report_outcome([Outcome(item_id="m2", event="LIKE")])
        self.assertIn("outcomes[0].event 'LIKE'", str(caught.exception))

    def test_health(self):
        self.assertEqual(self.client.health(), "SERVING")
        self.client.wait_until_serving(timeout=5)


class AdminTest(unittest.TestCase):
    def setUp(self):
        self.client = client()
        self.addCleanup(self.client.close)

    def test_catalog_upsert_and_delete(self):
        # make_test_model's items are all out of stock: an in-stock filter
        # keeps only what is upserted here (in_stock defaults to True).
        in_stock = [Filter("in_stock", equals=True)]
        self.assertEqual(self.client.upsert_items([CatalogItem("m3", title="Movie 3")]), 1)
        self.assertEqual(self.client.recommend("alice", 1, filters=in_stock).item_ids(), ["m3"])
        self.assertEqual(self.client.upsert_items([CatalogItem("m2", title="Movie 2")]), 1)
        self.assertEqual(self.client.recommend("alice", 1, filters=in_stock).item_ids(), ["m2"])
        restored = [CatalogItem(f"m{n}", title=f"Movie {n}", in_stock=False) for n in (2, 3)]
        self.assertEqual(self.client.upsert_items(restored), 2)
        self.assertEqual(self.client.recommend("alice", 1, filters=in_stock).item_ids(), [])
        self.assertEqual(self.client.upsert_items([CatalogItem("new-1", price=9.5)]), 1)
        self.assertEqual(self.client.delete_items(["new-1", "never-there"]), 1)

    def test_catalog_upsert_fields(self):
        in_stock = Filter("in_stock", equals=True)
        priced = Filter("price", min=7, max=7)
        # Only the price: m3 keeps its stock (out), although CatalogItem's
        # in_stock defaults to True.
        self.assertEqual(self.client.upsert_items([CatalogItem("m3", price=7.0)],
                                                  fields=["price"]), 1)
        self.assertEqual(self.client.recommend("alice", 1, filters=[in_stock]).item_ids(), [])
        # Only the stock: the price stays.
        self.assertEqual(self.client.upsert_items([CatalogItem("m3")], fields="in_stock"), 1)
        self.assertEqual(self.client.recommend("alice", 1, filters=[in_stock, priced]).item_ids(),
                         ["m3"])
        for fields, expected in ((["stock"], "fields[0] 'stock': expected one of title, "),
                                 (["price", "item_id"], "fields[1] 'item_id': expected"),
                                 ([], "fields: empty")):
            with self.subTest(fields=fields):
                with self.assertRaises(ConfigError) as caught:
                    self.client.upsert_items([CatalogItem("m3")], fields=fields)
                self.assertIn(expected, str(caught.exception))
        # Without fields the item is replaced whole: no price any more.
        self.assertEqual(self.client.upsert_items([CatalogItem("m3", title="Movie 3",
                                                               in_stock=False)]), 1)
        self.assertEqual(self.client.recommend("alice", 1, filters=[priced]).item_ids(), [])

    def test_rollout(self):
        status = self.client.get_rollout()
        self.assertEqual([(a.name, a.version, a.basis_points) for a in status.arms],
                         [("control", 1, 10000)])
        self.assertEqual(status.unresolved_reason, "")
        state = type(status.state)()
        state.CopyFrom(status.state)
        state.salt = f"salt-{status.revision + 1}"
        written = self.client.update_rollout(state, by="python_client_api_test",
                                             reason="a new salt")
        self.assertEqual(written.revision, status.revision + 1)
        self.assertEqual(written.salt, state.salt)
        history = self.client.rollout_history(limit=1)
        self.assertEqual(len(history), 1)
        self.assertEqual((history[0].revision, history[0].action, history[0].by),
                         (written.revision, "set", "python_client_api_test"))
        with self.assertRaises(AffinityError) as caught:  # the revision read is stale now
            self.client.update_rollout(state, by="python_client_api_test",
                                       expected_revision=status.revision)
        self.assertEqual(caught.exception.code, "ABORTED")

    def test_admin_needs_its_address(self):
        with Client(SERVER, **tls_files()) as no_admin:
            with self.assertRaises(ConfigError) as caught:
                no_admin.get_rollout()
        self.assertIn("admin_addr", str(caught.exception))

    @unittest.skipUnless(TOKEN, "the plaintext server has no admin token")
    def test_admin_token(self):
        with client(admin_token=None) as no_token:
            with self.assertRaises(AffinityError) as caught:
                no_token.get_rollout()
        self.assertEqual(caught.exception.code, "UNAUTHENTICATED")
        self.assertIn("this client has no admin_token", caught.exception.details)
        with client(admin_token="not-the-token") as wrong:
            with self.assertRaises(AffinityError) as caught:
                wrong.delete_items(["m1"])
        self.assertEqual(caught.exception.code, "UNAUTHENTICATED")


class MisconfigurationTest(unittest.TestCase):
    def test_nothing_listening(self):
        with Client(FREE, **tls_files()) as nowhere:
            with self.assertRaises(ServerUnreachable) as caught:
                nowhere.recommend("alice", 1)
        message = str(caught.exception)
        self.assertIn(f"cannot reach affinity-server at {FREE}", message)
        self.assertIn("--listen", message)

    def test_tls_mismatch(self):
        # A plaintext client of a TLS server, or a TLS client of a plaintext one.
        other = {} if CERTS else {"tls": True}
        with Client(SERVER, **other) as mismatched:
            with self.assertRaises(ServerUnreachable) as caught:
                mismatched.recommend("alice", 1)
        message = str(caught.exception)
        self.assertIn(SERVER, message)
        self.assertIn("this client speaks plaintext" if CERTS else "this client speaks TLS",
                      message)

    def test_settings(self):
        cases = [
            (dict(tls_cert="c.pem"), "tls_cert c.pem given without tls_key"),
            (dict(tls_key="k.pem"), "tls_key k.pem given without tls_cert"),
            (dict(tls_ca="/no/such/ca.pem"), "tls_ca /no/such/ca.pem: cannot read it"),
            (dict(tls_ca=__file__), "not a PEM file"),
            (dict(admin_token="two words"), "admin_token: expected visible ASCII"),
            (dict(timeout=0), "timeout 0: expected seconds > 0"),
        ]
        for settings, expected in cases:
            with self.subTest(settings=settings):
                with self.assertRaises(ConfigError) as caught:
                    Client(SERVER, **settings)
                self.assertIn(expected, str(caught.exception))
        with self.assertRaises(ConfigError) as caught:
            Client("localhost")
        self.assertIn("addr 'localhost': expected HOST:PORT", str(caught.exception))

    def test_bad_request_values(self):
        with client() as c:
            with self.assertRaises(ConfigError) as caught:
                c.recommend("alice", 1, recent=[("m1",)])
            self.assertIn("recent[0]", str(caught.exception))
            with self.assertRaises(ConfigError) as caught:
                c.recommend("alice", 1, filters=[{"attribute": "price", "maximum": 5}])
            self.assertIn("filters[0]", str(caught.exception))

    def test_cli_recent(self):
        self.assertEqual(parse_recent("a:1,b:2.5"), [("a", 1.0), ("b", 2.5)])
        with self.assertRaises(ConfigError) as caught:
            parse_recent("a:1,b")
        self.assertIn("--recent entry 2 'b'", str(caught.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
