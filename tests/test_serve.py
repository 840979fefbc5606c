"""dasl serve: the HTTP API with a real photo, bad inputs, 20 requests at once, nothing left behind, and the
page in a real browser (Debian's Chromium driven by Playwright: the overlay and the 3D view appear)."""

import io
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

starlette = pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from dasl.serve.app import ServeSettings, make_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def app(shared):
    return make_app(ServeSettings(workers=2, max_bytes=3 * 1024 * 1024, shared=str(shared.root)))


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def photo(shared):
    return (shared.path("samples") / "trump_hillary.jpg").read_bytes()


def test_a_photo_gives_its_faces_and_files(client, photo):
    answer = client.post("/reconstruct", files={"image": ("debate.jpg", photo, "image/jpeg")})
    assert answer.status_code == 200, answer.text
    record = answer.json()
    assert record["image"] == "debate.jpg" and len(record["faces"]) == 2
    assert np.array(record["faces"][0]["landmarks_2d"]).shape == (68, 2)
    assert {"json", "overlay", "face0.glb", "face0.obj", "face1.glb"} <= set(record["files"])
    assert client.get(record["files"]["face0.glb"]).content[:4] == b"glTF"
    overlay = Image.open(io.BytesIO(client.get(record["files"]["overlay"]).content))
    assert overlay.size == (record["width"], record["height"])
    assert client.get(record["files"]["json"]).json()["faces"] == record["faces"]


@pytest.mark.parametrize(
    "files, data, status, message",
    [
        ({"image": ("notes.jpg", b"this is not an image", "image/jpeg")}, None, 400, "notes.jpg: not an image"),
        ({"image": ("empty.jpg", b"", "image/jpeg")}, None, 400, "empty"),
        ({"picture": ("a.jpg", b"x", "image/jpeg")}, None, 400, "no file field 'image'"),
        (None, {"image": "text"}, 400, "no file field 'image'"),
        ({"image": ("big.bmp", b"0" * (3 * 1024 * 1024 + 10), "image/bmp")}, None, 413, "limit"),
    ],
)
def test_bad_input_is_a_4xx_json_error(client, files, data, status, message):
    answer = client.post("/reconstruct", files=files, data=data)
    assert answer.status_code == status and message in answer.json()["error"], answer.text


def test_no_face_unknown_model_and_outputs_are_named(client, photo):
    blank = io.BytesIO()
    Image.new("RGB", (300, 200), (90, 140, 200)).save(blank, "PNG")
    answer = client.post("/reconstruct", files={"image": ("sky.png", blank.getvalue(), "image/png")})
    assert answer.status_code == 422 and answer.json()["error"] == "no face found in the photo"
    assert answer.json()["faces"] == []
    answer = client.post("/reconstruct", files={"image": ("a.jpg", photo)}, data={"model": "nosuch"})
    assert answer.status_code == 400 and "not served" in answer.json()["error"]
    answer = client.post("/reconstruct", files={"image": ("a.jpg", photo)}, data={"outputs": "json,stl"})
    assert answer.status_code == 400 and "stl" in answer.json()["error"]
    assert client.get("/files/nope/photo.json").status_code == 404
    assert client.get("/files/x/..%2F..%2Fetc%2Fpasswd").status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(shared):
    """A real server (uvicorn) in a thread, for concurrency and the browser."""
    import uvicorn

    app = make_app(ServeSettings(workers=2, shared=str(shared.root)))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    for _ in range(200):
        if instance.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app.state.service
    instance.should_exit = True
    thread.join(30)
    assert not thread.is_alive()


def test_twenty_requests_at_once_are_all_served_and_nothing_is_left_behind(server, photo):
    import httpx

    url, service = server

    def post(i):
        with httpx.Client(timeout=300) as http:
            return http.post(f"{url}/reconstruct", files={"image": (f"p{i}.jpg", photo)}, data={"outputs": "json"})

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(post, range(20)))
    assert [a.status_code for a in answers] == [200] * 20
    first = answers[0].json()["faces"]
    for a in answers[1:]:  # the same photo, the same faces, whichever reconstructor served it
        np.testing.assert_allclose(
            [f["landmarks_2d"] for f in a.json()["faces"]], [f["landmarks_2d"] for f in first], atol=1e-3
        )
    assert len({a.json()["id"] for a in answers}) == 20
    assert service.root.is_dir() and len(list(service.root.iterdir())) == 20


def test_the_page_in_a_real_browser(server, shared, tmp_path):
    """Upload the sample photo on the page: the overlay appears, the 3D view draws the textured face (its
    canvas is no longer its background colour), the download links are there; a screenshot is kept."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} missing under CI (.ci/run installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} not installed")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    url, _ = server
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    args += ["--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.set_input_files("#file", str(shared.path("samples") / "trump_hillary.jpg"))
        page.wait_for_function("document.getElementById('status').textContent.includes('face(s)')", timeout=120000)
        page.wait_for_function("document.getElementById('overlay').naturalWidth > 0", timeout=30000)
        page.wait_for_timeout(1000)
        drawn = page.evaluate(
            """() => { const c = document.getElementById('view'); const g = c.getContext('webgl');
                 const px = new Uint8Array(c.width * c.height * 4);
                 g.readPixels(0, 0, c.width, c.height, g.RGBA, g.UNSIGNED_BYTE, px);
                 let face = 0; for (let i = 0; i < px.length; i += 4)
                   if (Math.abs(px[i] - 232) > 12 || Math.abs(px[i + 1] - 237) > 12) face++;
                 return face / (c.width * c.height); }"""
        )
        links = page.eval_on_selector_all("#downloads a", "links => links.map(a => a.textContent)")
        status = page.inner_text("#status")
        shots = Path(os.environ.get("DASL_SCREENSHOTS", tmp_path))  # where a person can look at it
        page.screenshot(path=str(shots / "serve_page.png"), full_page=True)
        browser.close()
    assert not errors, errors
    assert status.startswith("2 face(s) in trump_hillary.jpg"), status
    assert drawn > 0.05, drawn  # the face covers part of the view (measured: about a third)
    assert links[:3] == ["JSON", "GLB", "OBJ"]
