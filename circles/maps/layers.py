"""Folium elements of a circles map: data layers drawn by the page's own script, the lookup tables."""

from __future__ import annotations

from typing import Any

from folium.map import Layer
from folium.template import Template

from circles.maps.encode import script_json


class DataLayer(Layer):
    """A map layer drawn by ``circles_map.js`` from compact data (see :mod:`circles.maps.encode`).

    It is a folium :class:`~folium.map.Layer`, so the layer control lists it.

    Parameters
    ----------
    spec : dict
        ``kind`` (``"point"``, ``"line"``, ``"polygon"``, ``"dot"``, ``"label"``), ``geom``
        (encoded), ``style``, optional ``props``, ``colourBy``/``colours``, ``popup``,
        ``tooltip``, ``minZoom``, ``label``.
    name : str
        Name in the layer control.
    show : bool
        Shown when the page opens.
    control : bool
        Listed in the layer control.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = circles.layer(
                {{ this._parent.get_name() }}, {{ this.spec_json }}, {{ this.tables_name }});
        {% endmacro %}
        """
    )

    def __init__(self, spec: dict[str, Any], name: str, *, show: bool = True, control: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=control, show=show)
        self._name = "CirclesLayer"
        self.spec = spec
        self.tables_name = "circles_tables"

    @property
    def spec_json(self) -> str:
        """The layer's data as JSON for the page's script."""
        return script_json(self.spec)


class Tables(Layer):
    """Values stored once and looked up by index (facility names, notes, band labels).

    Parameters
    ----------
    tables : dict
        Lists of text by table name (``names``, ``notes``, ``bands``).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var circles_tables = {{ this.tables_json }};
        {% endmacro %}
        """
    )

    def __init__(self, tables: dict[str, list[str]]) -> None:
        super().__init__(name="circles tables", overlay=True, control=False, show=False)
        self._name = "CirclesTables"
        self.tables = tables

    @property
    def tables_json(self) -> str:
        """The tables as JSON for the page's script."""
        return script_json(self.tables)


class Ready(Layer):
    """Marks the moment the page has drawn its layers (``window.circlesDrawnMs``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            circles.ready();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__(name="circles ready", overlay=True, control=False, show=False)
        self._name = "CirclesReady"
