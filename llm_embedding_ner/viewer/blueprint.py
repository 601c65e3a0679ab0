"""The viewer's default layout, chosen from what the analysis holds."""

from __future__ import annotations

import numpy as np
import rerun.blueprint as rrb

from ..analysis.changes import Comparison
from ..analysis.result import Analysis
from .comparison_logging import CHANGED_CLOUD, COMPARISON, F1_PATH
from .point_sample import sample_note
from .rerun_logging import (
    DOCUMENT_TIMELINE,
    ENTITY_EMBEDDINGS,
    ERRORS_CLOUD,
    GOLD_CLOUD,
    LAYER_TIMELINE,
    METRICS,
    MODEL_TIMELINE,
    SUSPECTS,
    SUSPECTS_CLOUD,
    TOKEN_CLOUD,
)


def default_blueprint(
    layer_timeline: bool = False,
    score_series: bool = False,
    camera: rrb.EyeControls3D | None = None,
    corpus: bool = False,
    gold: bool = False,
    active_cloud: str | None = None,
    models: bool = False,
    suspects: bool = False,
    timeline: str | None = None,
    mentions: bool = True,
    sample: str = "",
) -> rrb.Blueprint:
    """Documents beside the 3D cloud. ``layer_timeline``: the time panel opens on ``layer``;
    ``score_series``: separation scores plotted beside; ``corpus``: documents on the
    ``document`` timeline and the entity-mention cloud (unless ``mentions`` is False: none
    was made, as in a map or with no entity found); ``gold``: the cloud coloured three
    ways (one tab each) and the metrics. ``models``: several models compared: the time panel
    opens on ``model``, the cloud gets a ``Changed`` tab and the comparison its document, and
    the plot shows F1 too. ``suspects``: a ``Suspects`` tab and document (suspect gold labels,
    most suspect first). ``active_cloud`` names the tab shown first ("Errors"); the first
    one by default. ``sample``: what each token cloud's name adds when it holds a sample.

    All views follow the time panel's one timeline (Rerun has no timeline per view), so it
    opens on the one the user asked for most specifically: model, then layer, then document."""
    documents = rrb.Vertical(
        rrb.TextDocumentView(origin="text", name="Text"),
        rrb.TextDocumentView(origin="tokenized_text", name="Tokenized text"),
        rrb.TextDocumentView(origin="named_entities", name="Named entities"),
        row_shares=[3, 4, 2],
    )
    cloud = rrb.Spatial3DView(origin=TOKEN_CLOUD, name=f"UMAP embeddings{sample}", eye_controls=camera)
    if not (layer_timeline or corpus or models):
        panel = [rrb.TimePanel(state="collapsed", timeline=timeline)] if timeline else []
        return rrb.Blueprint(
            rrb.Horizontal(documents, cloud, column_shares=[2, 3]), *panel, collapse_panels=True
        )

    clouds: list[rrb.View] = [cloud]
    if gold:
        cloud.name = f"Predicted types{sample}"  # type: ignore[assignment]
        clouds += [
            rrb.Spatial3DView(origin=GOLD_CLOUD, name=f"Gold types{sample}", eye_controls=camera),
            rrb.Spatial3DView(origin=ERRORS_CLOUD, name=f"Errors{sample}", eye_controls=camera),
        ]
    if suspects:
        clouds.append(rrb.Spatial3DView(origin=SUSPECTS_CLOUD, name=f"Suspects{sample}", eye_controls=camera))
    if models:
        clouds.append(rrb.Spatial3DView(origin=CHANGED_CLOUD, name="Changed", eye_controls=camera))
    elif corpus and mentions:  # a comparison has no mention cloud (its layouts would not be aligned)
        clouds.append(rrb.Spatial3DView(origin=ENTITY_EMBEDDINGS, name="Entity mentions"))
    side: list[rrb.View | rrb.Container] = []
    if models:
        side.append(rrb.TextDocumentView(origin=COMPARISON, name="Comparison"))
    if gold:
        metrics = rrb.TextDocumentView(origin=METRICS, name="Metrics")
        # Both long documents get the column's height, the suspects (what to fix) shown first.
        listed = rrb.TextDocumentView(origin=SUSPECTS, name="Suspects")
        side.append(rrb.Tabs(metrics, listed, active_tab="Suspects") if suspects else metrics)
    if models:
        side.append(
            rrb.TimeSeriesView(
                origin="/",
                contents=["+ separation/**", f"+ {F1_PATH}", "+ separation_by_layer/**"],
                name="Scores by model (or by layer on the layer timeline)",
                axis_y=rrb.ScalarAxis(range=(0.0, 1.0)),
                plot_legend=rrb.PlotLegend(corner="LeftBottom"),
            )
        )
    elif score_series:
        side.append(
            rrb.TimeSeriesView(
                origin="separation",
                name="Separation of entity types by layer",
                axis_y=rrb.ScalarAxis(range=(0.0, 1.0)),
                plot_legend=rrb.PlotLegend(corner="LeftBottom"),
            )
        )
    tabs = rrb.Tabs(*clouds, active_tab=active_cloud) if len(clouds) > 1 else cloud
    columns: list[rrb.Container | rrb.View] = [documents, tabs]
    if side:
        columns.append(rrb.Vertical(*side) if len(side) > 1 else side[0])
    return rrb.Blueprint(
        rrb.Horizontal(*columns, column_shares=[2, 3, 2][: len(columns)]),
        rrb.TimePanel(
            state="collapsed",
            timeline=MODEL_TIMELINE if models else LAYER_TIMELINE if layer_timeline else DOCUMENT_TIMELINE,
        ),
        collapse_panels=True,
    )


def blueprint_for(result: Analysis | Comparison, active_cloud: str | None = None) -> rrb.Blueprint:
    """The default layout for one model's analysis or several models' comparison."""
    analyses = [m.analysis for m in result.models] if isinstance(result, Comparison) else [result]
    first = analyses[0]
    # Tokens placed in a map: the camera frames the whole map, not only them.
    maps = [first.reference.coordinates] if first.reference is not None else []
    return default_blueprint(
        layer_timeline=not first.last_layer_only,
        score_series=len(first.layers) > 1,
        camera=camera_for(np.concatenate([view.coordinates for a in analyses for view in a.layers] + maps)),
        corpus=first.is_corpus,
        mentions=first.mentions is not None,
        gold=first.gold is not None,
        active_cloud=active_cloud,
        models=isinstance(result, Comparison),
        suspects=not isinstance(result, Comparison) and bool(result.suspects),
        sample="" if isinstance(result, Comparison) else sample_note(result),
    )


def camera_for(points: np.ndarray) -> rrb.EyeControls3D | None:
    """A camera that frames every point from a three-quarter view. The viewer's own framing
    aims at where most points are, so a few far clusters (often the entities, which UMAP sets
    apart from the many "no entity" tokens) could start off-screen."""
    if points.shape[0] == 0 or not np.isfinite(points).all():
        return None
    low, high = points.min(axis=0), points.max(axis=0)
    centre, radius = (low + high) / 2, max(float(np.linalg.norm(high - low)) / 2, 1e-3)
    direction = np.array([1.0, -1.0, 0.7]) / np.linalg.norm([1.0, -1.0, 0.7])
    return rrb.EyeControls3D(
        position=centre + 2.2 * radius * direction, look_target=centre, eye_up=(0.0, 0.0, 1.0)
    )
