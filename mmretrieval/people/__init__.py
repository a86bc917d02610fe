"""People in media: who speaks (voice turns) and who is on screen (face tracks), per file and
across the archive.

Voice prints and face descriptors are biometric data: these modules run only for a profile
that opts in with ``voice`` / ``face`` sections (the bundled ``people`` profile).
"""
