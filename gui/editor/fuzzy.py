"""Fuzzy matching of layer names for the palette filter and the search popup: the letters of the query
in order, scored higher at word starts (``bn`` finds BatchNorm2d) and in runs (``pool`` finds MaxPool2d)."""


def _word_start(text, i):
    if i == 0:
        return True
    before, here = text[i - 1], text[i]
    return (here.isupper() and before.islower()) or (here.isdigit() != before.isdigit()) or not before.isalnum()


def fuzzy_score(query, text):
    """A score (higher is better) if the letters of ``query`` appear in ``text`` in order, else None."""
    q, lower = query.lower().strip(), text.lower()
    if not q:
        return 0.0
    if lower.startswith(q):
        return 100.0 + len(q) - 0.1 * len(text)
    score, start, previous = 0.0, 0, -2
    for ch in q:
        i = lower.find(ch, start)
        if i < 0:
            return None
        score += 1 + (3 if i == previous + 1 else 0) + (4 if _word_start(text, i) else 0)
        previous, start = i, i + 1
    return score - 0.05 * len(text)


def layer_score(query, layer_type):
    """Best score of the query against a layer type's name, node prefix (``fc``) and the start of its
    category (``act`` lists the activations)."""
    scores = [fuzzy_score(query, layer_type.name), fuzzy_score(query, layer_type.prefix)]
    if query.strip() and layer_type.category.lower().startswith(query.strip().lower()):
        scores.append(50.0)
    found = [s for s in scores if s is not None]
    return max(found) if found else None


def rank_layer_types(query, layer_types):
    """The layer types matching ``query``, best first (catalogue order among equals)."""
    scored = [(layer_score(query, lt), k, lt) for k, lt in enumerate(layer_types)]
    return [lt for score, k, lt in sorted((s for s in scored if s[0] is not None), key=lambda s: (-s[0], s[1]))]


def rank_nodes(query, nodes):
    """The nodes whose name or layer type matches ``query``, best first (document order among equals)."""
    scored = []
    for k, node in enumerate(nodes):
        found = [s for s in (fuzzy_score(query, node.name), fuzzy_score(query, node.type)) if s is not None]
        if found:
            scored.append((-max(found), k, node))
    return [node for _, _, node in sorted(scored, key=lambda s: s[:2])]
