"""Classify image files: the most likely classes of each, with their
probabilities. Each image is converted to the Input's channels, resized to its height and width, and
normalised as in training. With --gradcam NODE or --saliency, a picture of where the prediction looked
(the map over the image, red where it counts most) is written for each image into --heatmaps DIR."""

import os

from .common import CliError, load_weights_into, open_network, positive_int, require_valid, resolve_device
from .table import dims

HEATMAP_SIDE = 128  # heatmap pictures are enlarged (whole pixels) to at least this many pixels a side


def add_parser(subparsers):
    p = subparsers.add_parser("predict", help="classify image files", description=__doc__)
    p.add_argument("network", metavar="NET.llnet", help="the network file")
    p.add_argument("weights", metavar="WEIGHTS", help="weights (.safetensors, .llw, .npz) or a run folder")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files (PNG, JPEG, ...)")
    p.add_argument("--top", type=positive_int, default=5, metavar="K", help="how many classes to show (default 5)")
    p.add_argument("--device", choices=("cpu", "cuda"))
    p.add_argument("--gradcam", metavar="NODE",
                   help="write the Grad-CAM map at NODE (a layer with an image-shaped output) for the predicted class")
    p.add_argument("--saliency", action="store_true", help="write the gradient saliency map for the predicted class")
    p.add_argument("--heatmaps", metavar="DIR", help="the folder for the --gradcam and --saliency pictures")
    p.set_defaults(handler=main)


def main(args):
    from engine.training.predictor import Predictor, class_names, load_image

    heatmap_names = check_heatmap_options(args)
    network = open_network(args.network)
    inference = require_valid(network, args.network, "run")
    shape, outputs = network.input_node().params["shape"], inference.nodes[network.output_node().id].shape
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise CliError(f"{args.network}: predict reads images into a 1×H×W or 3×H×W input, not {dims(shape)}")
    if len(outputs) != 1:
        raise CliError(f"{args.network}: predict needs one score per class, but the output is {dims(outputs)}")
    model = network.build().to(resolve_device(network, args.device))
    weights = load_weights_into(model, args.weights, args.network)
    predictor = Predictor(model, network, class_names(network, outputs[0], args.weights), weights)
    images = [load_image(path, network) for path in args.images]  # ImageFileError, a FileError, names the file
    heatmaps = explain(predictor, images, args) if heatmap_names else []
    if heatmaps:
        os.makedirs(args.heatmaps, exist_ok=True)
    for k, (path, top) in enumerate(zip(args.images, predictor.top(images, args.top))):
        print(path)
        for name, p in top:
            print(f"  {100 * p:6.2f} %  {name}")
        for label, suffix, attribution in heatmaps:
            picture = os.path.join(args.heatmaps, f"{heatmap_names[k]}.{suffix}.png")
            write_heatmap(images[k], attribution.maps[k], picture)
            print(f"  {label} for {predictor.classes[attribution.targets[k]]}: {picture}")
    return 0


def check_heatmap_options(args):
    """The stem of each image's heatmap files (None when no map is asked for); ``CliError`` for options that do
    not go together or images whose pictures would overwrite each other."""
    wanted = args.gradcam is not None or args.saliency
    if wanted != (args.heatmaps is not None):
        raise CliError("--heatmaps DIR names the folder for the pictures of --gradcam NODE or --saliency: "
                       "give both or neither")
    if not wanted:
        return None
    stems = [os.path.splitext(os.path.basename(path))[0] for path in args.images]
    clashes = sorted({stem for stem in stems if stems.count(stem) > 1})
    if clashes:
        raise CliError(f"images with the same name would share their heatmap files in {args.heatmaps}: "
                       f"{', '.join(clashes)}; explain them in separate runs")
    return stems


def explain(predictor, images, args):
    """``[(label, file name suffix, Attribution)]`` of the images for their predicted classes, for the maps the
    options ask for; ``CliError`` naming the node when it has no Grad-CAM."""
    from engine.ops.shape import stack
    from engine.training.attribution import AttributionError, grad_cam, saliency

    batch = stack([predictor.transform(image) for image in images])
    maps = []
    if args.gradcam is not None:
        try:
            cam = grad_cam(predictor.model, batch, args.gradcam)
        except AttributionError as e:
            raise CliError(f"{args.network}: --gradcam {args.gradcam}: {e}") from None
        maps.append((f"Grad-CAM at {args.gradcam}", f"gradcam-{args.gradcam}", cam))
    if args.saliency:
        maps.append(("saliency", "saliency", saliency(predictor.model, batch)))
    return maps


def write_heatmap(image, heatmap, path):
    """The PNG of ``heatmap`` over ``image`` (as the network sees it), enlarged to ``HEATMAP_SIDE`` or more."""
    import numpy as np
    from PIL import Image

    from engine.training.attribution import overlay

    picture = overlay(np.asarray(image), heatmap)
    scale = -(-HEATMAP_SIDE // min(picture.shape[:2]))
    Image.fromarray(picture.repeat(scale, 0).repeat(scale, 1)).save(path, format="PNG")
