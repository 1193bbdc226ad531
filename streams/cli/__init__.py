"""streams/cli"""
