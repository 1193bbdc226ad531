"""agents/worker"""
