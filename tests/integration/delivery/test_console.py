"""The delivery console's routes against the real service: sign-in (refused with a bad
key), the session cookie, CSRF on every form, acknowledgement with who and note, the audit
trail of downloads (API and console), and pages of the dossier listing."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.integration.delivery.conftest import MakeSettings
from tests.integration.delivery.console_setup import ConsoleStack, console_stack, csrf_of, sign_in

pytestmark = pytest.mark.integration


def browser(stack: ConsoleStack) -> httpx.AsyncClient:
    """A client with a cookie jar of its own (a second browser)."""
    return httpx.AsyncClient(base_url=stack.url)


async def test_sign_in_is_refused_with_a_bad_key_or_without_its_csrf_token(
    make_settings: MakeSettings,
) -> None:
    async with console_stack(await make_settings()) as stack, browser(stack) as client:
        first = await client.get("/console/")
        assert first.status_code == 401 and 'type="password"' in first.text
        assert "https://" not in first.text and "http://" not in first.text  # nothing external
        bad = await sign_in(client, "plume_not-a-key")
        assert bad.status_code == 401 and "Unknown key" in bad.text
        assert "plume_console=" not in bad.headers.get("set-cookie", "")
        no_csrf = await client.post("/console/sign-in", data={"key": stack.reader})
        assert no_csrf.status_code == 403
        assert "plume_console=" not in no_csrf.headers.get("set-cookie", "")
        assert (await client.get("/console/")).status_code == 401


async def test_a_session_cookie_httponly_strict_until_sign_out(
    make_settings: MakeSettings,
) -> None:
    async with console_stack(await make_settings()) as stack, browser(stack) as client:
        signed = await sign_in(client, stack.reader)
        assert signed.status_code == 303 and signed.headers["location"] == "/console/"
        cookie = next(
            c for c in signed.headers.get_list("set-cookie") if c.startswith("plume_console=")
        )
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
        assert stack.reader not in cookie and stack.reader not in signed.headers["location"]
        home = await client.get("/console/")
        assert home.status_code == 200 and stack.case_id in home.text
        assert "FR 3, RU 3, SN 3" in home.text  # by country, over the case's three dossiers
        assert home.headers["cache-control"] == "no-store"
        assert (await client.post("/console/sign-out", data={})).status_code == 403
        out = await client.post("/console/sign-out", data={"csrf": csrf_of(home.text)})
        assert out.status_code == 303
        assert (await client.get("/console/")).status_code == 401


async def test_acknowledge_needs_csrf_and_a_write_key_and_records_who_when_and_note(
    make_settings: MakeSettings,
) -> None:
    async with console_stack(await make_settings()) as stack, browser(stack) as client:
        first, second = stack.dossier_ids[:2]
        await sign_in(client, stack.writer)
        page = await client.get(f"/console/dossiers/{first}")
        assert page.status_code == 200 and 'name="note"' in page.text
        form = {"by": "Nadia (Tunis team)", "note": "Handed to the embassy's clerk"}
        no_csrf = await client.post(f"/console/dossiers/{first}/acknowledge", data=form)
        assert no_csrf.status_code == 403
        wrong = {**form, "csrf": "forged"}
        assert (
            await client.post(f"/console/dossiers/{first}/acknowledge", data=wrong)
        ).status_code == 403
        api = {"X-API-Key": stack.reader}
        assert (await stack.client.get(f"/v1/dossiers/{first}", headers=api)).json()[
            "status"
        ] == "sealed"

        done = await client.post(
            f"/console/dossiers/{first}/acknowledge", data={**form, "csrf": csrf_of(page.text)}
        )
        assert done.status_code == 303
        manifest = (await stack.client.get(f"/v1/dossiers/{first}", headers=api)).json()
        assert manifest["status"] == "acknowledged"
        assert manifest["acknowledged_by"] == "Nadia (Tunis team)"
        assert manifest["note"] == "Handed to the embassy's clerk"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT.*Z", manifest["acknowledged_at"])
        shown = await client.get(f"/console/dossiers/{first}")
        assert "Nadia (Tunis team)" in shown.text and "acknowledged" in shown.text

        async with browser(stack) as reader:
            await sign_in(reader, stack.reader)
            token = csrf_of((await reader.get(f"/console/dossiers/{second}")).text)
            refused = await reader.post(
                f"/console/dossiers/{second}/acknowledge", data={**form, "csrf": token}
            )
            assert refused.status_code == 403 and "dossiers:write" in refused.text

        by_api = await stack.client.post(
            f"/v1/dossiers/{second}/acknowledge",
            json={"by": "Karim", "note": "by courier"},
            headers={"X-API-Key": stack.writer},
        )
        assert by_api.status_code == 200
        assert (by_api.json()["acknowledged_by"], by_api.json()["note"]) == ("Karim", "by courier")


async def test_downloads_through_api_and_console_are_in_the_audit_trail(
    make_settings: MakeSettings,
) -> None:
    async with console_stack(await make_settings()) as stack, browser(stack) as client:
        dossier = stack.dossier_ids[0]
        api = await stack.client.get(
            f"/v1/dossiers/{dossier}/signatures.csv", headers={"X-API-Key": stack.reader}
        )
        assert api.status_code == 200
        await sign_in(client, stack.writer)
        csv = await client.get(f"/console/dossiers/{dossier}/files/signatures.csv")
        assert csv.status_code == 200 and csv.content == api.content
        assert (await client.get(f"/console/dossiers/{dossier}/files/x.txt")).status_code == 404
        trail = (await client.get("/console/downloads")).text
        rows = re.findall(
            r"<tr><td class=\"mono\">[^<]+</td><td>([^<]+)</td><td>([^<]+)</td>", trail
        )
        assert len(rows) == 2 and all(file == "signatures.csv" for _, file in rows)
        assert all(who.startswith("t-") for who, _ in rows)  # key names, never the keys
        assert len({who for who, _ in rows}) == 2  # the writer's (console), the reader's (API)
        assert dossier[:8] in (await client.get(f"/console/dossiers/{dossier}")).text


async def test_the_dossier_listing_pages_and_keeps_v1_without_a_page(
    make_settings: MakeSettings,
) -> None:
    async with console_stack(await make_settings()) as stack, browser(stack) as client:
        headers = {"X-API-Key": stack.reader}
        params = {"case_id": stack.case_id}
        whole = await stack.client.get("/v1/dossiers", params=params, headers=headers)
        assert [d["id"] for d in whole.json()] == stack.dossier_ids and "link" not in whole.headers
        first = await stack.client.get(
            "/v1/dossiers", params={**params, "limit": 2}, headers=headers
        )
        assert [d["id"] for d in first.json()] == stack.dossier_ids[:2]
        following = re.fullmatch(r'<(/v1/dossiers\?[^>]+)>; rel="next"', first.headers["link"])
        assert following
        second = await stack.client.get(following.group(1), headers=headers)
        assert [d["id"] for d in second.json()] == stack.dossier_ids[2:]
        assert "link" not in second.headers
        too_big = await stack.client.get("/v1/dossiers", params={"limit": 5000}, headers=headers)
        assert too_big.status_code == 422

        await sign_in(client, stack.reader)
        page = (await client.get(f"/console/cases/{stack.case_id}", params={"limit": 2})).text
        assert [i[:8] for i in stack.dossier_ids[:2]] == re.findall(
            r'mono" href="/console/dossiers/(\w{8})', page
        )
        more = re.search(r'rel="next" href="([^"]+)"', page)
        assert more
        last = (await client.get(more.group(1).replace("&amp;", "&"))).text
        assert re.findall(r'mono" href="/console/dossiers/(\w{8})', last) == [
            stack.dossier_ids[2][:8]
        ]
        assert 'rel="next"' not in last
