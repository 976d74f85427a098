"""The one face of a photo someone gives kupol (an enrolment, a search, an export's subject):
exactly one usable face, or a refusal that says why, with a code clients can translate."""

from __future__ import annotations

from kupol.core.errors import FieldProblem, InvalidInputError
from kupol.faces.files import decode_image
from kupol.faces.types import Face, FaceAnalyzer


def one_usable_face(
    analyzer: FaceAnalyzer, photo: bytes, *, use: str, crop_hint: str, what: str = "photo"
) -> Face:
    """The single usable face in ``photo``.

    Args:
        use: what the face is for, in the refusal ("matching", "search").
        crop_hint: who to crop the photo to when it holds several faces.
        what: what the photo is called in messages.

    Raises:
        InvalidInputError: not an image (``not_image``), no face (``no_face``), several faces
            (``several_faces``) or a face too poor to use (``poor_face``, reasons as problems).
    """
    faces = analyzer.analyze(decode_image(photo, what=what))
    if not faces:
        raise InvalidInputError(
            f"no face found in the {what}; use a clear, frontal photo", code="no_face"
        )
    if len(faces) > 1:
        raise InvalidInputError(
            f"the {what} holds {len(faces)} faces; crop it to {crop_hint}", code="several_faces"
        )
    face = faces[0]
    if not face.quality.usable:
        raise InvalidInputError(
            f"the face is not usable for {use}: " + ", ".join(face.quality.reasons),
            code="poor_face",
            problems=[FieldProblem(field=what, message=r) for r in face.quality.reasons],
        )
    return face
