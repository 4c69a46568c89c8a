/* circles: draws the layers of a circles map from compact data (see circles/maps/encode.py).
 *
 * Every text shown (names, notes) is set with textContent, never parsed as HTML.
 * Layers with a minimum zoom are built the first time the map is zoomed in that far.
 */
(function () {
  "use strict";

  function points(g) {
    var c = g.c, q = g.q, out = new Array(c.length / 2), x = 0, y = 0;
    for (var i = 0, j = 0; i < c.length; i += 2, j += 1) {
      x += c[i];
      y += c[i + 1];
      out[j] = [y * q, x * q];
    }
    return out;
  }

  function take(list, start, counts) {
    var out = [], at = start;
    for (var i = 0; i < counts.length; i += 1) {
      out.push(list.slice(at, at + counts[i]));
      at += counts[i];
    }
    return out;
  }

  /* Features of a layer as nested arrays of [lat, lng]: points, lines (parts) or polygons (rings). */
  function features(g, kind) {
    var pts = points(g);
    if (kind === "point") return pts;
    var parts = [], at = 0, i;
    for (i = 0; i < g.n.length; i += 1) {
      parts.push(pts.slice(at, at + g.n[i]));
      at += g.n[i];
    }
    if (kind === "polygon") {
      var polys = [], r = 0;
      for (i = 0; i < g.r.length; i += 1) {
        polys.push(parts.slice(r, r + g.r[i]));
        r += g.r[i];
      }
      parts = polys;
    }
    var out = [], p = 0;
    for (i = 0; i < g.f.length; i += 1) {
      out.push(parts.slice(p, p + g.f[i]));
      p += g.f[i];
    }
    return out;
  }

  function format(value, fmt, tables) {
    if (value === null || value === undefined) return "";
    if (fmt === "int") return Math.round(value).toLocaleString("en-US");
    if (fmt === "min") return value < 0 ? "unreachable" : (value / 10).toFixed(1) + " min";
    if (fmt === "pct") return value < 0 ? "no residents" : value + "%";
    if (fmt === "name") return value < 0 ? "" : tables.names[value];
    if (fmt === "note") return value < 0 ? "" : tables.notes[value];
    if (fmt === "band") return tables.bands[value];
    if (fmt === "short") {
      var name = tables.names[value];
      return name.length > 40 ? name.slice(0, 39) + "\u2026" : name;
    }
    if (fmt === "km2") return value.toFixed(2) + " km\u00b2";
    return String(value);
  }

  /* A popup or tooltip body: an optional bold title and "label: value" rows, as DOM text. */
  function body(spec, props, i, tables) {
    var root = document.createElement("div");
    if (spec.title) {
      var b = document.createElement("b");
      b.textContent = spec.title[0] + format(props[spec.title[1]][i], spec.title[2], tables);
      root.appendChild(b);
    }
    (spec.rows || []).forEach(function (row) {
      if (!props[row[1]]) return;
      var value = format(props[row[1]][i], row[2], tables);
      if (value === "") return;
      var line = document.createElement("div");
      if (row[0].indexOf("{}") >= 0) line.textContent = row[0].replace("{}", value);
      else line.textContent = row[0] ? row[0] + ": " + value : value;
      root.appendChild(line);
    });
    (spec.notes || []).forEach(function (note) {
      if (!props[note[0]][i]) return;
      var it = document.createElement("i");
      it.textContent = note[1];
      root.appendChild(document.createElement("br"));
      root.appendChild(it);
    });
    return root;
  }

  function style(spec, i) {
    var s = Object.assign({}, spec.style);
    if (spec.colourBy) {
      var c = spec.colours[spec.props[spec.colourBy][i]];
      if (s.stroke !== false && !spec.keepStroke) s.color = c;
      s.fillColor = c;
    }
    return s;
  }

  function make(spec, geom, i, renderer) {
    var opts = style(spec, i);
    opts.renderer = renderer;
    if (spec.kind === "point" && spec.icon === "rank") {
      var div = document.createElement("div");
      div.className = "circles-site";
      div.textContent = String(spec.props.rank[i]);
      return L.marker(geom, {
        pane: "markerPane",
        icon: L.divIcon({ html: div, className: "circles-site-icon", iconSize: [22, 22], iconAnchor: [11, 11] }),
      });
    }
    if (spec.kind === "point") return L.circleMarker(geom, opts);
    if (spec.kind === "dot") {
      opts.radius = spec.props.radius_m[i];
      return L.circle(geom, opts);
    }
    if (spec.kind === "line") return L.polyline(geom, opts);
    return L.polygon(geom, opts);
  }

  function build(spec, tables, renderer) {
    var geoms = features(spec.geom, spec.kind === "dot" ? "point" : spec.kind);
    var group = L.featureGroup();
    group.circlesKind = spec.id;
    for (var i = 0; i < geoms.length; i += 1) {
      if (spec.kind !== "point" && spec.kind !== "dot" && geoms[i].length === 0) continue;
      var layer = make(spec, geoms[i], i, renderer);
      layer.circlesIndex = i;
      if (spec.linkBy) {
        layer.on("click", (function (href) {
          return function () { window.location.href = href; };
        })(spec.props[spec.linkBy][i]));
      }
      if (spec.popup) {
        layer.bindPopup(
          (function (k) {
            return function () {
              return body(spec.popup, spec.props, k, tables);
            };
          })(i),
          { maxWidth: 320 }
        );
      }
      if (spec.tooltip) {
        layer.bindTooltip(
          (function (k) {
            return function () {
              return body(spec.tooltip, spec.props, k, tables);
            };
          })(i),
          { sticky: spec.kind !== "point" }
        );
      }
      group.addLayer(layer);
    }
    return group;
  }

  function labels(spec, tables) {
    var group = L.layerGroup();
    group.circlesKind = spec.id;
    points(spec.geom).forEach(function (ll, i) {
      var span = document.createElement("span");
      span.textContent = format(spec.props[spec.label[0]][i], spec.label[1], tables);
      group.addLayer(
        L.tooltip({ permanent: true, direction: "right", offset: [8, 0], className: "circles-label", interactive: false })
          .setLatLng(ll)
          .setContent(span)
      );
    });
    return group;
  }

  /* A layer whose contents show only within a range of zoom levels, built when first needed. */
  var Gated = L.Layer.extend({
    initialize: function (make, minZoom, maxZoom, id) {
      this._make = make;
      this._minZoom = minZoom || 0;
      this._maxZoom = maxZoom || 99;
      this._inner = null;
      this.circlesKind = id;
    },
    onAdd: function (map) {
      map.on("zoomend", this._check, this);
      this._check();
    },
    onRemove: function (map) {
      map.off("zoomend", this._check, this);
      if (this._inner) map.removeLayer(this._inner);
    },
    _check: function () {
      var zoom = this._map.getZoom();
      var show = zoom >= this._minZoom && zoom < this._maxZoom;
      if (show && !this._inner) this._inner = this._make();
      if (!this._inner) return;
      if (show) this._map.addLayer(this._inner);
      else this._map.removeLayer(this._inner);
    },
    inner: function () {
      return this._inner;
    },
  });

  /* Panes fix the drawing order whatever order layers are added or zoomed in: each pane has
     its own canvas inside the overlay pane. */
  var PANES = { areas: 401, streets: 402, cells: 403, homes: 404, points: 405 };

  function renderer(map, pane) {
    pane = pane || "areas";
    map._circlesRenderers = map._circlesRenderers || {};
    if (!map._circlesRenderers[pane]) {
      if (!map.getPane(pane)) {
        map.createPane(pane, map.getPane("overlayPane")).style.zIndex = PANES[pane] || 400;
      }
      map._circlesRenderers[pane] = L.canvas({ padding: 0.1, tolerance: 3, pane: pane });
    }
    return map._circlesRenderers[pane];
  }

  window.circles = {
    features: features,
    layer: function (map, spec, tables) {
      if (spec.kind === "levels") {
        var group = L.layerGroup(spec.levels.map(function (s) { return window.circles.layer(map, s, tables); }));
        group.circlesKind = spec.id;
        return group;
      }
      var draw = spec.kind === "label"
        ? function () { return labels(spec, tables); }
        : function () { return build(spec, tables, renderer(map, spec.pane)); };
      if (spec.minZoom || spec.maxZoom) return new Gated(draw, spec.minZoom, spec.maxZoom, spec.id);
      return draw();
    },
    /* Records when the map has drawn its first frame (for measuring; see bench/maps.py). */
    ready: function () {
      requestAnimationFrame(function () {
        requestAnimationFrame(function () {
          window.circlesDrawnMs = performance.now();
        });
      });
    },
  };
})();
