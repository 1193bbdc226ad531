"""agents/indicators"""
