// dasl's face viewer: a textured triangle mesh from a binary glTF file (the .glb dasl writes), drawn with
// WebGL and turned by dragging. Reads the first primitive's POSITION, TEXCOORD_0, indices and its base
// colour texture; lit by one light from the viewer so the shape reads, the texture shown at full strength.
"use strict";

class FaceViewer {
  constructor(canvas) {
    this.canvas = canvas;
    const gl = canvas.getContext("webgl", { preserveDrawingBuffer: true, antialias: true });
    if (!gl) throw new Error("WebGL is not available");
    gl.getExtension("OES_element_index_uint");
    this.gl = gl;
    this.yaw = 0; this.pitch = 0; this.mesh = null;
    this.program = this.compile(
      `attribute vec3 p; attribute vec3 n; attribute vec2 t; uniform mat4 m; uniform mat3 r;
       varying vec2 vt; varying float light;
       void main() { vt = t; light = 0.35 + 0.65 * abs(normalize(r * n).z); gl_Position = m * vec4(p, 1.0); }`,
      `precision mediump float; varying vec2 vt; varying float light; uniform sampler2D tex;
       void main() { gl_FragColor = vec4(texture2D(tex, vt).rgb * light, 1.0); }`);
    let dragging = null;
    canvas.addEventListener("pointerdown", e => { dragging = [e.clientX, e.clientY]; canvas.setPointerCapture(e.pointerId); });
    canvas.addEventListener("pointerup", () => { dragging = null; });
    canvas.addEventListener("pointermove", e => {
      if (!dragging) return;
      this.yaw += (e.clientX - dragging[0]) * 0.01;
      this.pitch = Math.max(-1.2, Math.min(1.2, this.pitch + (e.clientY - dragging[1]) * 0.01));
      dragging = [e.clientX, e.clientY];
      this.draw();
    });
  }

  compile(vertexSource, fragmentSource) {
    const gl = this.gl, program = gl.createProgram();
    for (const [kind, source] of [[gl.VERTEX_SHADER, vertexSource], [gl.FRAGMENT_SHADER, fragmentSource]]) {
      const shader = gl.createShader(kind);
      gl.shaderSource(shader, source); gl.compileShader(shader);
      if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
      gl.attachShader(program, shader);
    }
    gl.linkProgram(program);
    return program;
  }

  async load(url) {
    const data = await (await fetch(url)).arrayBuffer();
    const view = new DataView(data);
    if (view.getUint32(0, true) !== 0x46546c67) throw new Error("not a binary glTF file");
    const jsonLength = view.getUint32(12, true);
    const doc = JSON.parse(new TextDecoder().decode(new Uint8Array(data, 20, jsonLength)));
    const bin = 20 + jsonLength + 8;
    const read = (index, Kind, width) => {
      const accessor = doc.accessors[index], buffer = doc.bufferViews[accessor.bufferView];
      return new Kind(data, bin + (buffer.byteOffset || 0) + (accessor.byteOffset || 0), accessor.count * width);
    };
    const primitive = doc.meshes[0].primitives[0];
    const positions = read(primitive.attributes.POSITION, Float32Array, 3);
    const uvs = read(primitive.attributes.TEXCOORD_0, Float32Array, 2);
    const indices = read(primitive.indices, Uint32Array, 1);
    const image = doc.images[doc.textures[doc.materials[primitive.material].pbrMetallicRoughness.baseColorTexture.index].source];
    const imageView = doc.bufferViews[image.bufferView];
    const bitmap = await createImageBitmap(new Blob([new Uint8Array(data, bin + (imageView.byteOffset || 0), imageView.byteLength)], { type: image.mimeType }));
    this.upload(positions, uvs, indices, bitmap);
    this.yaw = 0; this.pitch = 0;
    this.draw();
  }

  upload(positions, uvs, indices, bitmap) {
    const gl = this.gl, count = positions.length / 3;
    const normals = new Float32Array(positions.length);
    for (let i = 0; i < indices.length; i += 3) {
      const [a, b, c] = [indices[i] * 3, indices[i + 1] * 3, indices[i + 2] * 3];
      const u = [positions[b] - positions[a], positions[b + 1] - positions[a + 1], positions[b + 2] - positions[a + 2]];
      const v = [positions[c] - positions[a], positions[c + 1] - positions[a + 1], positions[c + 2] - positions[a + 2]];
      const n = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
      for (const k of [a, b, c]) { normals[k] += n[0]; normals[k + 1] += n[1]; normals[k + 2] += n[2]; }
    }
    let radius = 0;
    for (let i = 0; i < count; i++) radius = Math.max(radius, Math.hypot(positions[3 * i], positions[3 * i + 1], positions[3 * i + 2]));
    const buffer = (kind, array) => { const b = gl.createBuffer(); gl.bindBuffer(kind, b); gl.bufferData(kind, array, gl.STATIC_DRAW); return b; };
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB, gl.RGB, gl.UNSIGNED_BYTE, bitmap);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    this.mesh = { p: buffer(gl.ARRAY_BUFFER, positions), n: buffer(gl.ARRAY_BUFFER, normals), t: buffer(gl.ARRAY_BUFFER, uvs),
                  i: buffer(gl.ELEMENT_ARRAY_BUFFER, indices), count: indices.length, radius, texture };
  }

  draw() {
    const gl = this.gl, mesh = this.mesh;
    const width = this.canvas.clientWidth, height = this.canvas.clientHeight;
    if (this.canvas.width !== width || this.canvas.height !== height) { this.canvas.width = width; this.canvas.height = height; }
    gl.viewport(0, 0, width, height);
    gl.clearColor(0.91, 0.93, 0.94, 1); gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    if (!mesh) return;
    gl.enable(gl.DEPTH_TEST);
    gl.useProgram(this.program);
    const cy = Math.cos(this.yaw), sy = Math.sin(this.yaw), cp = Math.cos(this.pitch), sp = Math.sin(this.pitch);
    // r = Rx(pitch) Ry(yaw), column-major; orthographic projection scaled to the mesh, depth into [-1, 1]
    const r = [cy, sp * sy, -cp * sy, 0, cp, sp, sy, -sp * cy, cp * cy];
    const s = 0.9 / mesh.radius, aspect = width / height;
    const m = [r[0] * s / aspect, r[1] * s, -r[2] * s * 0.5, 0, r[3] * s / aspect, r[4] * s, -r[5] * s * 0.5, 0,
               r[6] * s / aspect, r[7] * s, -r[8] * s * 0.5, 0, 0, 0, 0, 1];
    gl.uniformMatrix4fv(gl.getUniformLocation(this.program, "m"), false, new Float32Array(m));
    gl.uniformMatrix3fv(gl.getUniformLocation(this.program, "r"), false, new Float32Array(r));
    for (const [name, buffer, size] of [["p", mesh.p, 3], ["n", mesh.n, 3], ["t", mesh.t, 2]]) {
      const at = gl.getAttribLocation(this.program, name);
      gl.bindBuffer(gl.ARRAY_BUFFER, buffer); gl.enableVertexAttribArray(at); gl.vertexAttribPointer(at, size, gl.FLOAT, false, 0, 0);
    }
    gl.bindTexture(gl.TEXTURE_2D, mesh.texture);
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, mesh.i);
    gl.drawElements(gl.TRIANGLES, mesh.count, gl.UNSIGNED_INT, 0);
  }
}
