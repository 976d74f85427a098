"""Citizens' reports of violations: photos and videos sent in for a share of the fine.

The pure core that resists abuse: perceptual hashes that find re-used and downloaded images
(:mod:`~kupol.citizens.phash`), the metadata a photo or video carries
(:mod:`~kupol.citizens.media_meta`), checks of that metadata against the claim
(:mod:`~kupol.citizens.consistency`) and the reporter's reputation that orders the officers'
queue (:mod:`~kupol.citizens.reputation`).
"""
