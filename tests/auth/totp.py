"""The TOTP code of a base32 secret, computed by an implementation independent of the app's
(PyPI's pyotp, pinned in tests/auth/requirements.txt), for the second-factor tests.

Usage: python tests/auth/totp.py SECRET [STEPS]
Prints the code for now, or STEPS 30-second steps from now (negative: earlier).
"""
import sys
import time

import pyotp

secret = sys.argv[1].replace(" ", "").upper()
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 0
print(pyotp.TOTP(secret).at(time.time() + 30 * steps))
