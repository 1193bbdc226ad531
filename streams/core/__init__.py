"""streams/core"""
